// Extra GraphQL (PostGraphile v5 plugins made with `extendSchema` from postgraphile/utils): custom
// subscriptions, the LiveKit token mutation and the like. A feature adds its plugin (a file in this
// folder) to this list. What a plugin needs from the process (hub, LiveKit settings) it reads from the
// request context (index.ts), never from a module variable.
import { LivekitTokenPlugin } from "./livekit.ts";
import { StreamEventsPlugin } from "./stream-events.ts";
import { HideGeneratedSendsPlugin, SendMutationsPlugin, WriteResultTypesPlugin } from "./writes.ts";

export const graphqlPlugins: GraphileConfig.Plugin[] = [
  LivekitTokenPlugin,
  StreamEventsPlugin,
  HideGeneratedSendsPlugin,
  WriteResultTypesPlugin,
  SendMutationsPlugin,
];
