// Makes LiveKit hold the room a stream needs: enqueued by the streams trigger when a stream goes live
// (CreateRoom with the limits app_private.livekit_room_spec decides: emptyTimeout, departureTimeout,
// maxParticipants) and when it ends (DeleteRoom; LiveKit ends the room's egresses with it, and the
// stream_egresses__run jobs the same trigger enqueued stop them explicitly). A failure throws, so
// graphile-worker retries with its backoff. The SQL that enqueued it stays a pure DB transaction.
import type { Task } from "graphile-worker";
import type { RoomServiceClient } from "livekit-server-sdk";
import { isUuid } from "../../../core/livekit/grant.ts";
import { isNotFound, type RoomAdmin } from "../../../core/livekit/rooms.ts";

interface Spec {
  room: string;
  live: boolean;
  empty_timeout: number;
  departure_timeout: number;
  max_participants: number;
}

export const makeStreamsLivekitRoom =
  (rooms: RoomAdmin | RoomServiceClient | null): Task =>
  async (payload, helpers) => {
    const streamId = (payload as { stream_id?: unknown } | null)?.stream_id;
    if (!isUuid(streamId)) throw new Error(`streams__livekit_room: payload needs stream_id, got ${JSON.stringify(payload)}`);
    const spec = (await helpers.withPgClient((c) => c.query<Spec>("select * from app_private.livekit_room_spec($1)", [streamId]))).rows[0];
    if (!spec) return; // the stream is gone
    if (!rooms) {
      helpers.logger.debug(`LiveKit is not configured: room of stream ${streamId} left to LiveKit`);
      return;
    }
    if (spec.live) {
      await rooms.createRoom({
        name: spec.room,
        emptyTimeout: spec.empty_timeout,
        departureTimeout: spec.departure_timeout,
        maxParticipants: spec.max_participants,
      });
      helpers.logger.info(
        `LiveKit room ${spec.room} open (max ${spec.max_participants} participants, empty timeout ${spec.empty_timeout} s)`,
      );
    } else {
      try {
        await rooms.deleteRoom(spec.room);
        helpers.logger.info(`LiveKit room ${spec.room} deleted (stream ended)`);
      } catch (e) {
        if (!isNotFound(e)) throw e; // already gone: nothing to do
      }
    }
  };
