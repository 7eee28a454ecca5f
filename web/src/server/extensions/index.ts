// Every server extension, in the order their routes are tried.
import { broadcastExtension } from "./broadcast.ts";
import { giftsExtension } from "./gifts.ts";
import { livekitExtension } from "./livekit.ts";
import { playbackExtension } from "./playback.ts";
import type { ExtensionFactory } from "./types.ts";

export const extensionFactories: ExtensionFactory[] = [playbackExtension, livekitExtension, giftsExtension, broadcastExtension];
