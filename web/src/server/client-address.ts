// Who is asking, for per-address limits (broadcast and GraphQL websockets, signed-out viewers' stage
// tokens) and for the origin check on websocket upgrades. docs/security.md ("Sockets").
//
// - The address is the socket's peer, unless that peer is a trusted proxy (TRUSTED_PROXIES): then
//   the right-most X-Forwarded-For entry that is not itself a trusted proxy. A client cannot spoof
//   it by sending X-Forwarded-For directly: untrusted peers' headers are ignored.
// - IPv6 addresses count per /64 (one subscriber's whole prefix), IPv4-mapped IPv6 as IPv4.
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

export interface AddressConfig {
  /** Comma-separated addresses or CIDR ranges of the reverse proxies in front of this server. */
  TRUSTED_PROXIES?: string;
  /** Comma-separated extra origins allowed to open websockets (besides this server's own). */
  ALLOWED_ORIGINS?: string;
  PUBLIC_URL?: string;
}

export function trustedProxies(spec: string | undefined): BlockList {
  const list = new BlockList();
  for (const raw of (spec ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (raw === "loopback") {
      list.addSubnet("127.0.0.0", 8, "ipv4");
      list.addAddress("::1", "ipv6");
      continue;
    }
    const [addr, bits] = raw.split("/");
    const family = isIP(addr ?? "");
    if (!addr || !family) throw new Error(`TRUSTED_PROXIES: "${raw}" is not an address or CIDR range`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits !== undefined) list.addSubnet(addr, Number(bits), type);
    else list.addAddress(addr, type);
  }
  return list;
}

function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const a = plain(address);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 4 ? "ipv4" : "ipv6");
}

/** The key limits count by: an IPv4 address, or an IPv6 /64 prefix (`2001:db8:1:2::/64`). */
export function addressKey(address: string): string {
  const a = plain(address);
  if (isIP(a) !== 6) return a;
  // Expand to 8 groups, keep the first 4.
  const [head = "", tail = ""] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = a.includes("::") ? (tail ? tail.split(":") : []) : [];
  const groups = a.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : a.split(":");
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}

/** The client's address (see above), or "unknown". */
export function clientAddress(req: IncomingMessage, proxies: BlockList): string {
  const peer = req.socket.remoteAddress ?? "";
  if (!peer) return "unknown";
  if (!isTrusted(proxies, peer)) return plain(peer);
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!isIP(plain(hop))) break;
    if (!isTrusted(proxies, hop)) return plain(hop);
  }
  return plain(peer);
}

/**
 * A websocket upgrade from a browser carries Origin: allowed when it is this server's own origin
 * (the Host it was asked for, or PUBLIC_URL's) or one of ALLOWED_ORIGINS. No Origin (a non-browser
 * client) is allowed: it cannot be a cross-site page riding on the user's cookies.
 */
export function originAllowed(req: IncomingMessage, config: AddressConfig): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  const allowed = new Set(
    (config.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => new URL(s).origin),
  );
  if (config.PUBLIC_URL) allowed.add(new URL(config.PUBLIC_URL).origin);
  if (allowed.has(o.origin)) return true;
  return !!req.headers.host && o.host === req.headers.host;
}
