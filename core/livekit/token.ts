// Signs LiveKit access tokens for a grant computed in SQL. Every permission is set explicitly:
// LiveKit treats a missing canPublish as "may publish".
import { AccessToken } from "livekit-server-sdk";
import type { LivekitSettings } from "./config.ts";
import type { LivekitGrant } from "./grant.ts";

export interface MintedToken {
  token: string;
  url: string;
  expiresAt: string;
}

export async function mintToken(
  settings: Pick<LivekitSettings, "apiKey" | "apiSecret" | "clientUrl">,
  grant: LivekitGrant,
): Promise<MintedToken> {
  const at = new AccessToken(settings.apiKey, settings.apiSecret, { identity: grant.identity, ttl: grant.ttlSeconds });
  at.addGrant({
    room: grant.room,
    roomJoin: true,
    roomAdmin: grant.roomAdmin,
    canPublish: grant.canPublish,
    canPublishData: grant.canPublishData,
    canSubscribe: grant.canSubscribe,
    canUpdateOwnMetadata: false,
  });
  return {
    token: await at.toJwt(),
    url: settings.clientUrl,
    expiresAt: new Date(Date.now() + grant.ttlSeconds * 1000).toISOString(),
  };
}
