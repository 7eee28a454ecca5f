// LiveKit at the HTTP edge:
// - POST /livekit-token: compatible with the old `livekit-token` function (`{room|streamId,
//   allowPublish?}` → `{token, url}`). Every permission flag in the request is ignored: the grant comes
//   from app_public.livekit_grant (database state) and the identity is always the caller's user id.
// - POST /webhooks/livekit: signature-verified (WebhookReceiver); on participant_joined and
//   track_published the participant's permissions are re-checked against the database and corrected
//   through RoomService (a failed correction becomes a stream_seats__enforce job).
// At start, a RoomService call reports a key that does not match LIVEKIT_URL.
import { WebhookReceiver } from "livekit-server-sdk";
import type pg from "pg";
import { type LivekitSettings, livekitSettings, NOT_CONFIGURED } from "../../../../worker/src/livekit/config.ts";
import { type GrantRow, grantFor, grantFromRow, isUuid } from "../../../../worker/src/livekit/grant.ts";
import { applyGrant, roomService } from "../../../../worker/src/livekit/rooms.ts";
import { mintToken } from "../../../../worker/src/livekit/token.ts";
import type { PgSettings } from "../auth.ts";
import { HttpError, json, readJson } from "../http.ts";
import type { ExtensionFactory, ServerContext } from "./types.ts";

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

/**
 * app_public.livekit_grant as the caller in one round trip (the hot path of every stage join): the
 * same transaction `withRequestClient` runs, sent as one simple-protocol batch with escaped literals.
 */
async function grantAsCaller(pool: pg.Pool, settings: PgSettings, streamId: string): Promise<GrantRow | undefined> {
  const client = await pool.connect();
  try {
    const lit = (v: string) => client.escapeLiteral(v);
    const results = (await client.query(
      `begin; select set_config('role', ${lit(settings.role)}, true), set_config('request.jwt.claims', ${lit(settings["request.jwt.claims"])}, true);
       select * from app_public.livekit_grant(${lit(streamId)}::uuid); commit;`,
    )) as unknown as pg.QueryResult<GrantRow>[];
    return results[2]?.rows[0];
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** Check the key against the server once at start: a key that does not match its URL is reported now. */
async function checkKey(ctx: ServerContext, s: LivekitSettings) {
  try {
    await roomService(s, 5).listRooms();
    ctx.logger.info({ url: s.apiUrl }, "LiveKit RoomService accepted LIVEKIT_API_KEY");
  } catch (e) {
    const err = e as { status?: number; message?: string };
    if (err.status === 401 || err.status === 403)
      ctx.logger.error(
        { url: s.apiUrl, status: err.status },
        `LIVEKIT_API_KEY/LIVEKIT_API_SECRET do not match LIVEKIT_URL (${s.apiUrl} answered ${err.status}: ${err.message}); stage tokens and seat revocation will fail`,
      );
    else ctx.logger.error({ url: s.apiUrl, err: err.message }, `LiveKit RoomService at ${s.apiUrl} is unreachable: ${err.message}`);
  }
}

export const livekitExtension: ExtensionFactory = async (ctx) => {
  const settings = livekitSettings(ctx.config);
  const receiver = settings ? new WebhookReceiver(settings.apiKey, settings.apiSecret) : null;
  const keyCheck = settings ? checkKey(ctx, settings) : Promise.resolve();

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
          const row = await grantAsCaller(ctx.authPool, pgSettings, streamId);
          const grant = grantFromRow(row);
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
          const s = requireSettings(settings);
          if (!receiver) throw new HttpError(503, "CONFG", NOT_CONFIGURED);
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of req) {
            size += (chunk as Buffer).length;
            if (size > 1024 * 1024) throw new HttpError(413, "BADIN", "webhook body over 1 MiB");
            chunks.push(chunk as Buffer);
          }
          const body = Buffer.concat(chunks).toString("utf8");
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
                action = await applyGrant(roomService(s), room, identity, grant);
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
    async stop() {
      await keyCheck;
    },
  };
};
