// Every server feature, in the order their routes are tried. A new feature is a file in this folder
// exporting a FeatureFactory (types.ts), added here.
import { broadcastFeature } from "./broadcast.ts";
import { demoHlsFeature } from "./demo-hls.ts";
import { giftMetricsFeature } from "./gift-metrics.ts";
import { livekitFeature } from "./livekit.ts";
import { paymentsFeature } from "./payments.ts";
import { playbackFeature } from "./playback.ts";
import { servicesFeature } from "./services.ts";
import { stripeFeature } from "./stripe.ts";
import type { FeatureFactory } from "./types.ts";

export const featureFactories: FeatureFactory[] = [
  playbackFeature,
  demoHlsFeature,
  servicesFeature,
  livekitFeature,
  paymentsFeature,
  stripeFeature,
  giftMetricsFeature,
  broadcastFeature,
];
