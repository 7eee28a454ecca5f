// GraphQL: `subscription { streamEvents(streamId) { streamId events { id kind at payload truncated } } }`
// for integrators and low fan-out uses (viewers use the broadcast socket, docs/architecture.md, rule 6). Built on
// grafast's listen() with this process's realtime hub (from the request context, `hub`) as the
// subscriber: the same single LISTEN
// connection as the broadcast socket, each batch parsed once per process, each subscription counted
// for presence. Catch-up after a reconnect: the `streamEventsSince(streamId, afterId)` query.
import { GraphQLError } from "graphql";
import type { GrafastSubscriber } from "postgraphile/grafast";
import { access, context, lambda, list, listen, SafeError } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { CHANNEL_PREFIX, type EventBatch, type RealtimeHub, StreamNotFoundError, UUID_RE } from "../realtime/hub.ts";

/** Batches a subscriber may fall behind by before its subscription is ended. */
const MAX_QUEUED = 500;

/** Subscribe to one stream's batches through the hub; ends the iterator when the client goes away. */
export function streamBatches(hub: RealtimeHub, streamId: string, connection: object | null = null): AsyncIterableIterator<EventBatch> {
  const queue: EventBatch[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: Error | null = null;
  let unsubscribe: (() => void) | null = null;
  let joined = false;
  // After the hub re-LISTENed, batches may have been missed: end the subscription with an error that
  // says so (like a slow subscriber's), so the client resubscribes and catches up with streamEventsSince.
  const offResync = hub.onResync((s) => {
    if (s.streamId !== streamId || finished) return;
    // A GraphQLError (not SafeError): maskError passes those through unchanged.
    failure = new GraphQLError(
      "streamEvents: the server reconnected to the event feed and may have missed events: resubscribe and catch up with streamEventsSince",
    );
    finish();
  });
  const finish = () => {
    if (finished) return;
    finished = true;
    offResync();
    unsubscribe?.();
    if (joined) {
      if (connection) hub.leaveFor(connection, streamId);
      else hub.leave(streamId);
    }
    wake?.();
  };
  const ready = hub
    .subscribe(streamId, (batch) => {
      if (finished) return;
      if (queue.length >= MAX_QUEUED) {
        failure = new SafeError("streamEvents subscriber too slow: resubscribe and catch up with streamEventsSince");
        finish();
        return;
      }
      queue.push(batch);
      wake?.();
    })
    .then(
      (sub) => {
        unsubscribe = sub.unsubscribe;
        if (finished) sub.unsubscribe();
        else {
          // Counted once per connection and stream, however many subscriptions it opens.
          if (connection) hub.joinFor(connection, streamId);
          else hub.join(streamId);
          joined = true;
        }
      },
      (e: Error) => {
        failure = e instanceof StreamNotFoundError ? new SafeError(e.message, { code: "NOFND" }) : e;
        finish();
      },
    );
  const iterator: AsyncIterableIterator<EventBatch> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      await ready;
      for (;;) {
        const batch = queue.shift();
        if (batch) return { value: batch, done: false };
        if (finished) {
          if (failure) {
            const e = failure;
            failure = null;
            throw e;
          }
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    },
    async return() {
      finish();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    async throw(e?: unknown) {
      finish();
      throw e;
    },
  };
  return iterator;
}

/** GrafastSubscriber over a hub: topics are `stream_events:<stream id>`. */
export function hubSubscriber(
  hub: RealtimeHub | undefined,
  connection: object | null = null,
): GrafastSubscriber<Record<string, EventBatch>> {
  return {
    subscribe(topic) {
      if (!hub) throw new SafeError("streamEvents is not served by this process");
      const id = String(topic).slice(CHANNEL_PREFIX.length);
      if (!String(topic).startsWith(CHANNEL_PREFIX) || !UUID_RE.test(id)) throw new SafeError("streamId must be a stream's UUID");
      return streamBatches(hub, id.toLowerCase(), connection);
    },
  };
}

export const StreamEventsPlugin = extendSchema(() => ({
  typeDefs: gql`
    "One batch of a stream's events, in delivery order (one NOTIFY of the relay)."
    type StreamEventBatch {
      streamId: UUID!
      events: [StreamEventBatchItem!]!
    }
    "One stream event: the same shape as on the broadcast socket (docs/realtime-protocol.md)."
    type StreamEventBatchItem {
      "Delivery number; resume after the last one you saw with streamEventsSince."
      id: BigInt!
      "chat, chat_deleted, gift, viewer_count, seat, leaderboard, earnings or stream_state."
      kind: String!
      at: Datetime!
      "Self-contained event data (null when truncated)."
      payload: JSON
      "True when the event was too large for a batch: fetch it with streamEventsSince."
      truncated: Boolean
    }
    extend type Subscription {
      "Batches of a stream's events (chat, chat_deleted, gift, viewer_count, seat, leaderboard, stream_state). Counts as a viewer. Error: NOFND."
      streamEvents(streamId: UUID!): StreamEventBatch
    }
  `,
  objects: {
    Subscription: {
      plans: {
        streamEvents: {
          subscribePlan(_$root, fieldArgs) {
            const $topic = lambda(fieldArgs.getRaw("streamId"), (id) => `${CHANNEL_PREFIX}${String(id)}`);
            const $subscriber = lambda(list([context().get("hub"), context().get("connection")]), ([hub, connection]) =>
              hubSubscriber(hub as RealtimeHub | undefined, (connection as object | null | undefined) ?? null),
            );
            return listen($subscriber, $topic);
          },
          plan($event) {
            return $event;
          },
        },
      },
    },
    StreamEventBatch: {
      plans: {
        streamId: ($b) => access($b, "stream_id"),
        events: ($b) => access($b, "events"),
      },
    },
    StreamEventBatchItem: {
      plans: {
        id: ($e) => lambda(access($e, "id"), (id) => String(id)),
        kind: ($e) => access($e, "kind"),
        at: ($e) => access($e, "at"),
        payload: ($e) => access($e, "payload"),
        truncated: ($e) => access($e, "truncated"),
      },
    },
  },
}));
