// GraphQL: `sendGift` and `sendChatMessage` through the process's group-commit write path
// (../writes.ts) instead of one transaction per request. Same names, inputs and payloads as the
// mutations PostGraphile generated from app_public.send_gift / send_chat_message (those are hidden
// from the schema here and stay in SQL for PostgREST and direct callers): the payload's `result` is
// the same GiftReceipt / ChatMessage type, errors carry the same codes. The sender is the `sub` of the
// request's verified token; a request without a signed-in role gets what the database said before
// (42501, "not allowed", DENYD).
import { access, context, object, rootValue, sideEffect } from "postgraphile/grafast";
import { extendSchema, gql, pgSmartTags } from "postgraphile/utils";
import type { PgSettings } from "../auth.ts";
import { type ChatMessage, type GiftReceipt, senderFromSettings, type WritePath } from "../writes.ts";

/** The generated function mutations: replaced by the ones below (the functions stay in SQL). */
export const HideGeneratedSendsPlugin = pgSmartTags(
  [
    { kind: "procedure", match: "app_public.send_gift", tags: { behavior: "-mutationField" } },
    { kind: "procedure", match: "app_public.send_chat_message", tags: { behavior: "-mutationField" } },
  ],
  null,
  { name: "HideGeneratedSendsPlugin" },
);

/**
 * GiftReceipt and ChatMessage (types of app_public composite types) insist on a step that selects from
 * PostgreSQL. Our results come from the write path already decoded; their fields only read columns
 * (`$record.get(column)`), which an object step provides, so the assertion is dropped for these two.
 */
export const WriteResultTypesPlugin: GraphileConfig.Plugin = {
  name: "WriteResultTypesPlugin",
  version: "0.0.0",
  schema: {
    hooks: {
      GraphQLObjectType(spec) {
        if (spec.name === "GiftReceipt" || spec.name === "ChatMessage") return { ...spec, assertStep: undefined };
        return spec;
      },
    },
  },
};

function notAllowed(): Error {
  return Object.assign(new Error("permission denied"), { code: "42501" });
}

function writePath(writes: WritePath | undefined): WritePath {
  if (!writes) throw new Error("no write path in the GraphQL context");
  return writes;
}

const GIFT_FIELDS: (keyof GiftReceipt)[] = [
  "gift_ledger_id",
  "stream_id",
  "gift_id",
  "quantity",
  "coins",
  "status",
  "balance",
  "replayed",
  "created_at",
];
const CHAT_FIELDS: (keyof ChatMessage)[] = ["id", "stream_id", "sender_id", "body", "client_id", "sender", "created_at"];

/** A record step the generated GiftReceipt / ChatMessage types can read (`$record.get(column)`). */
function record(fields: string[], $row: ReturnType<typeof access>) {
  return object(Object.fromEntries(fields.map((f) => [f, access($row, f)])));
}

export const SendMutationsPlugin = extendSchema(() => ({
  typeDefs: gql`
    "All input for the \`sendGift\` mutation."
    input SendGiftInput {
      """
      An arbitrary string value with no semantic meaning. Will be included in the
      payload verbatim. May be used to track mutations by the client.
      """
      clientMutationId: String
      giftId: UUID
      idempotencyKey: String
      quantity: Int
      streamId: UUID
    }
    "The output of our \`sendGift\` mutation."
    type SendGiftPayload {
      """
      The exact same \`clientMutationId\` that was provided in the mutation input,
      unchanged and unused. May be used by a client to track mutations.
      """
      clientMutationId: String
      "Our root query field type. Allows us to run any query from our mutation payload."
      query: Query
      result: GiftReceipt
    }
    "All input for the \`sendChatMessage\` mutation."
    input SendChatMessageInput {
      body: String
      clientId: String
      """
      An arbitrary string value with no semantic meaning. Will be included in the
      payload verbatim. May be used to track mutations by the client.
      """
      clientMutationId: String
      streamId: UUID
    }
    "The output of our \`sendChatMessage\` mutation."
    type SendChatMessagePayload {
      """
      The exact same \`clientMutationId\` that was provided in the mutation input,
      unchanged and unused. May be used by a client to track mutations.
      """
      clientMutationId: String
      "Our root query field type. Allows us to run any query from our mutation payload."
      query: Query
      result: ChatMessage
    }
    extend type Mutation {
      """
      Send \`quantity\` of a catalogue gift to a live stream's broadcaster. The price comes from the catalogue; the sender is debited at once and the gift is settled to the broadcaster within about 10 s. Idempotent per sender and \`idempotencyKey\`: the same key with the same arguments returns the original receipt. Errors: NOAUT, BANND, BADIN (quantity 1-1000, gift inactive), NOFND (stream or gift), NLIVE, DENYD (own stream), INSFD (cannot pay; nothing recorded), IDEMP (key reused with other arguments), BUSY (retry after the given seconds).
      """
      sendGift(input: SendGiftInput!): SendGiftPayload
      """
      Sends a chat message to a live stream; it reaches viewers as a \`chat\` event carrying the sender's identity.
      Body trimmed, 1-500 characters, no control characters. Rate limited per user (1/s, bursts of 5) and by the stream's slow mode; the broadcaster and moderators are exempt.
      Errors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message), BUSY.
      """
      sendChatMessage(input: SendChatMessageInput!): SendChatMessagePayload
    }
  `,
  objects: {
    Mutation: {
      plans: {
        sendGift(_$root, fieldArgs) {
          const $input = fieldArgs.getRaw("input");
          const $ctx = context();
          const $res = sideEffect(
            { input: $input, settings: $ctx.get("pgSettings"), writes: $ctx.get("writes") },
            async ({ input, settings, writes }) => {
              const { role, senderId } = senderFromSettings(settings as PgSettings);
              if (role !== "authenticated") throw notAllowed();
              const i = input as Record<string, unknown>;
              return await writePath(writes).gift({
                senderId,
                streamId: i.streamId ?? null,
                giftId: i.giftId ?? null,
                quantity: i.quantity,
                idempotencyKey: (i.idempotencyKey as string | null | undefined) ?? null,
              });
            },
          );
          return object({ clientMutationId: access($input, "clientMutationId"), result: record(GIFT_FIELDS, access($res)) });
        },
        sendChatMessage(_$root, fieldArgs) {
          const $input = fieldArgs.getRaw("input");
          const $ctx = context();
          const $res = sideEffect(
            { input: $input, settings: $ctx.get("pgSettings"), writes: $ctx.get("writes") },
            async ({ input, settings, writes }) => {
              const { role, senderId } = senderFromSettings(settings as PgSettings);
              if (role !== "authenticated") throw notAllowed();
              const i = input as Record<string, unknown>;
              return await writePath(writes).chat({
                senderId,
                streamId: i.streamId ?? null,
                body: i.body ?? null,
                clientId: (i.clientId as string | null | undefined) ?? null,
              });
            },
          );
          return object({ clientMutationId: access($input, "clientMutationId"), result: record(CHAT_FIELDS, access($res)) });
        },
      },
    },
    SendGiftPayload: {
      plans: {
        query() {
          return rootValue();
        },
      },
    },
    SendChatMessagePayload: {
      plans: {
        query() {
          return rootValue();
        },
      },
    },
  },
}));
