// GraphQL: `livekitToken(input: {streamId})` returns a LiveKit token signed for the caller's grant,
// computed by app_public.livekit_grant under the request's role and claims (no client flag is read).
// The LiveKit settings are the process's, from the request context (`livekit`, see index.ts).
import { sideEffectWithPgClient } from "postgraphile/@dataplan/pg";
import { context } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { NOT_CONFIGURED } from "../../../../core/livekit/config.ts";
import { type GrantRow, grantFromRow } from "../../../../core/livekit/grant.ts";
import { mintToken } from "../../../../core/livekit/token.ts";

export const LivekitTokenPlugin = extendSchema((build) => {
  const executor = build.input.pgRegistry.pgExecutors.main;
  if (!executor) throw new Error("LivekitTokenPlugin: no `main` pg executor");
  return {
    typeDefs: gql`
      input LivekitTokenInput {
        "The stream whose stage (LiveKit room) to join."
        streamId: UUID!
      }
      "A LiveKit access token for the caller's grant in a stream's room."
      type LivekitTokenPayload {
        "Signed LiveKit JWT (identity = your user id, or anon-<random> when signed out)."
        token: String!
        "LiveKit server URL to connect to (ws/wss)."
        url: String!
        room: String!
        identity: String!
        canPublish: Boolean!
        canSubscribe: Boolean!
        canPublishData: Boolean!
        roomAdmin: Boolean!
        "When the token stops admitting new connections."
        expiresAt: Datetime!
      }
      extend type Mutation {
        "Signs a LiveKit token for the caller's grant in a stream's room, decided by the database (signed out: watch only, identity anon-<random>, rate limited per address). Errors: NOAUT, BANND, NOFND, NLIVE, RATEL, CONFG."
        livekitToken(input: LivekitTokenInput!): LivekitTokenPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          livekitToken(_$root, fieldArgs) {
            const $streamId = fieldArgs.getRaw(["input", "streamId"]);
            const spec = {
              streamId: $streamId,
              settings: context().get("livekit"),
              clientAddr: context().get("clientAddr"),
              pgSettings: context().get("pgSettings"),
            };
            return sideEffectWithPgClient(executor, spec, async (client, { streamId, settings, clientAddr, pgSettings }) => {
              if (!settings) throw Object.assign(new Error(NOT_CONFIGURED), { code: "CONFG" });
              // Signed-out viewers are rate limited per address, in SQL (livekit_grant_for): only they need it,
              // so signed-in callers keep one round trip.
              if (clientAddr && (pgSettings as Record<string, string> | null)?.role === "anon")
                await client.query({ text: "select set_config('request.client_addr', $1, true)", values: [clientAddr] });
              const { rows } = await client.query<GrantRow>({ text: "select * from app_public.livekit_grant($1)", values: [streamId] });
              const grant = grantFromRow(rows[0]);
              const minted = await mintToken(settings, grant);
              return { ...grant, token: minted.token, url: minted.url, expiresAt: minted.expiresAt };
            });
          },
        },
      },
    },
  };
});
