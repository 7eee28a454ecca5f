// Extra GraphQL (PostGraphile v5 plugins made with `extendSchema` from postgraphile/utils): custom
// subscriptions, the LiveKit token mutation and the like. Features add their plugin to this list.
import { LivekitTokenPlugin } from "./graphql/livekit.ts";
import { StreamEventsPlugin } from "./graphql/stream-events.ts";

export const graphqlPlugins: GraphileConfig.Plugin[] = [LivekitTokenPlugin, StreamEventsPlugin];
