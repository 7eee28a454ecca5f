// Websocket frames built once and written to many sockets (docs/architecture.md, rule 6): the broadcast socket
// serialises each batch once per process and hands the same Buffer to every socket.
//
// Compression: a viewer that offers permessage-deflate (every browser does) gets the batch as one
// deflated frame, compressed once per batch and shared by all such sockets. That needs each message
// compressed on its own (`server_no_context_takeover`, RFC 7692 §7.1.1.1) with the full 15-bit window.
// On loopback, writing the bytes (kernel copies and TCP work) is most of the fan-out's cost, and chat
// batches deflate to about a third.
import { constants, deflateRawSync } from "node:zlib";
import type { PerMessageDeflateOptions } from "ws";

/** What the broadcast socket's WebSocketServer accepts: compression without context takeover. */
export const BROADCAST_DEFLATE: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  // Nothing goes through ws.send on the broadcast socket; this only keeps ws from compressing if it ever does.
  threshold: Number.MAX_SAFE_INTEGER,
};

function frame(first: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([first, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

/** An unmasked, final text frame (RFC 6455 §5.2). */
export function textFrame(text: string): Buffer {
  return frame(0x81, Buffer.from(text, "utf8"));
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A final text frame with RSV1 set and the message deflated on its own (RFC 7692 §7.2.1). */
export function deflatedTextFrame(text: string): Buffer {
  let payload = deflateRawSync(Buffer.from(text, "utf8"), { finishFlush: constants.Z_SYNC_FLUSH });
  if (payload.length >= 4 && payload.subarray(-4).equals(TRAILER)) payload = payload.subarray(0, -4);
  return frame(0xc1, payload);
}

/**
 * True when a socket's negotiated extensions (ws's `websocket.extensions`) let it take the shared
 * deflated frame: permessage-deflate, the server compresses without context takeover, full window.
 */
export function takesSharedDeflate(extensions: string): boolean {
  if (!/(^|,)\s*permessage-deflate\b/.test(extensions)) return false;
  if (!/server_no_context_takeover/.test(extensions)) return false;
  const bits = /server_max_window_bits=(\d+)/.exec(extensions);
  return !bits || Number(bits[1]) === 15;
}

/** One message's frames, each built at most once however many sockets take it. */
export class SharedFrame {
  private plainFrame: Buffer | null = null;
  private deflatedFrame: Buffer | null = null;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  get plain(): Buffer {
    this.plainFrame ??= textFrame(this.text);
    return this.plainFrame;
  }

  get deflated(): Buffer {
    this.deflatedFrame ??= deflatedTextFrame(this.text);
    return this.deflatedFrame;
  }
}
