// LiveKit at the HTTP edge:
// - POST /livekit-token: compatible with the old `livekit-token` function (`{room|streamId,
//   allowPublish?}` → `{token, url}`). Every permission flag in the request is ignored: the grant comes
//   from app_public.livekit_grant (database state) and the identity is always the caller's user id
//   (signed out: a watch-only grant for identity anon-<random>, rate limited per client address).
// - POST /webhooks/livekit: signature-verified (WebhookReceiver); on participant_joined and
//   track_published the participant's permissions are re-checked against the database and corrected
//   through RoomService (a failed correction becomes a stream_seats__enforce job).
// The key is checked at start with the other external services (services.ts).
import { WebhookReceiver } from "livekit-server-sdk";
import { type LivekitSettings, NOT_CONFIGURED } from "../../../../core/livekit/config.ts";
import { type GrantRow, grantFor, grantFromRow, isUuid } from "../../../../core/livekit/grant.ts";
import { applyGrant, roomService } from "../../../../core/livekit/rooms.ts";
import { mintToken } from "../../../../core/livekit/token.ts";
import { withCaller } from "../caller.ts";
import { HttpError, json, readBody, readJson } from "../http.ts";
import type { FeatureFactory } from "./types.ts";

function requireSettings(s: LivekitSettings | null): LivekitSettings {
  if (!s) throw new HttpError(503, "CONFG", NOT_CONFIGURED);
  return s;
}

/** `{room|streamId}` from the body; nothing else in it is read. */
function streamIdOf(body: unknown): string {
  const o = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const id = o.streamId ?? o.stream_id ?? o.room;
  if (!isUuid(id)) throw new HttpError(400, "BADIN", 'send {"streamId": "<stream uuid>"} (or {"room": "<stream uuid>"})');
  return id;
}

export const livekitFeature: FeatureFactory = async (ctx) => {
  const settings = ctx.livekit;
  const receiver = settings ? new WebhookReceiver(settings.apiKey, settings.apiSecret) : null;
  const rooms = settings ? roomService(settings) : null;

  return {
    name: "livekit",
    routes: [
      {
        method: "POST",
        path: "/livekit-token",
        async handle(req, res) {
          const s = requireSettings(settings);
          const pgSettings = await ctx.settingsFor(req.headers.authorization);
          const streamId = streamIdOf(await readJson(req));
          // app_public.livekit_grant as the caller: the hot path of every stage join. Signed-out
          // viewers get a watch-only grant, rate limited per address (request.client_addr) in SQL.
          const caller = { ...pgSettings, "request.client_addr": ctx.addressOf(req) };
          const { rows } = await withCaller(ctx.authPool, caller, (client) =>
            client.query<GrantRow>({ text: "select * from app_public.livekit_grant($1)", values: [streamId] }),
          );
          const grant = grantFromRow(rows[0]);
          const minted = await mintToken(s, grant);
          json(res, 200, {
            token: minted.token,
            url: minted.url,
            room: grant.room,
            identity: grant.identity,
            expiresAt: minted.expiresAt,
            grant: {
              canPublish: grant.canPublish,
              canSubscribe: grant.canSubscribe,
              canPublishData: grant.canPublishData,
              roomAdmin: grant.roomAdmin,
            },
          });
        },
      },
      {
        method: "POST",
        path: "/webhooks/livekit",
        async handle(req, res) {
          if (!receiver || !rooms) throw new HttpError(503, "CONFG", NOT_CONFIGURED);
          const body = await readBody(req, 1024 * 1024);
          let event: Awaited<ReturnType<WebhookReceiver["receive"]>>;
          try {
            event = await receiver.receive(body, req.headers.authorization ?? (req.headers.authorize as string | undefined));
          } catch (e) {
            throw new HttpError(401, "NOAUT", `webhook signature rejected: ${(e as Error).message}`);
          }
          const room = event.room?.name;
          const participant = event.participant;
          let action = "ignored";
          if ((event.event === "participant_joined" || event.event === "track_published") && room && participant?.identity) {
            const identity = participant.identity;
            const grant = await grantFor(ctx.ownerPool, room, identity);
            const perm = participant.permission;
            const exceeds =
              !grant ||
              (perm?.canPublish === true && !grant.canPublish) ||
              (perm?.canPublishData === true && !grant.canPublishData) ||
              (event.event === "track_published" && !grant.canPublish);
            action = "ok";
            if (exceeds) {
              try {
                action = await applyGrant(rooms, room, identity, grant);
              } catch (e) {
                ctx.logger.warn({ room, identity, err: (e as Error).message }, "LiveKit correction failed; queued for retry");
                if (isUuid(room) && isUuid(identity))
                  await ctx.ownerPool.query("select app_private.add_job('stream_seats__enforce', $1::json, now(), $2, $3)", [
                    JSON.stringify({ stream_id: room, user_id: identity }),
                    `stream_seats__enforce:${room}:${identity}`,
                    `livekit:${room}:${identity}`,
                  ]);
                action = "queued";
              }
            }
          }
          json(res, 200, { ok: true, event: event.event, action });
        },
      },
    ],
  };
};
