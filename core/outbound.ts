// Outbound HTTP on the database's behalf (HLS health checks, and any future webhook or provider
// call): only to the hosts the operator configured, never redirected off them, never to private,
// loopback or link-local addresses unless the configured host itself is such an address, with a
// deadline for the whole exchange (a peer that stalls mid-body is cut off) and a byte cap read as a
// stream (nothing larger is ever buffered).
import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

export interface OutboundPolicy {
  /** Host names (lower case, with port when not the default) that may be fetched. */
  hosts: Set<string>;
  /** Of those, hosts written as a private/loopback address (or `localhost`): allowed to be private. */
  privateHosts: Set<string>;
}

/** The hosts playback checks may fetch: the configured HLS origin, CDN and Mux playback host. */
export function playbackOutbound(config: { PLAYBACK_ORIGIN_URL?: string; PLAYBACK_CDN_URL?: string; PLAYBACK_MUX_URL?: string }) {
  return outboundPolicy([config.PLAYBACK_ORIGIN_URL, config.PLAYBACK_CDN_URL, config.PLAYBACK_MUX_URL]);
}

/** Allow one more configured base URL (e.g. the built-in demo origin, known once the port is). */
export function allowOrigin(policy: OutboundPolicy, raw: string): void {
  const extra = outboundPolicy([raw]);
  for (const h of extra.hosts) policy.hosts.add(h);
  for (const h of extra.privateHosts) policy.privateHosts.add(h);
}

/** The policy for a set of configured base URLs (unset ones are skipped). */
export function outboundPolicy(urls: (string | undefined | null)[]): OutboundPolicy {
  const hosts = new Set<string>();
  const privateHosts = new Set<string>();
  for (const raw of urls) {
    if (!raw) continue;
    const u = new URL(raw);
    const host = u.host.toLowerCase();
    hosts.add(host);
    const name = u.hostname.replace(/^\[|\]$/g, "");
    if (name === "localhost" || (isIP(name) && isPrivateAddress(name))) privateHosts.add(host);
  }
  return { hosts, privateHosts };
}

// Two lists: node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules too.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked4.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  blocked6.addSubnet(net, prefix, "ipv6");

/** Private, loopback, link-local, CGNAT, multicast or reserved: not a public internet address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked4.check(address, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked4.check(mapped[1], "ipv4");
    return blocked6.check(address, "ipv6");
  }
  return true;
}

export class OutboundError extends Error {}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, at most `maxBytes` (empty when `readBody` is false). */
  body: Buffer;
  /** The URL finally fetched (after redirects within the allowed hosts). */
  url: string;
}

export interface OutboundRequest {
  timeoutMs: number;
  maxBytes: number;
  headers?: Record<string, string>;
  /** false: answer with the status only and drop the body unread (segment reachability). */
  readBody?: boolean;
  maxRedirects?: number;
}

function checkedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as { address: string; family: number }[];
      const bad = list.find((a) => !allowPrivate && isPrivateAddress(a.address));
      if (bad || !list.length) return callback(new OutboundError(`${hostname} resolves to a private address`), "", 0);
      const first = list[0] as { address: string; family: number };
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      else callback(null, first.address, first.family);
    });
  };
}

/** GET `url` under `policy`. Throws OutboundError naming what was refused or what went wrong. */
export async function outboundGet(url: string, policy: OutboundPolicy, req: OutboundRequest): Promise<OutboundResponse> {
  const deadline = Date.now() + req.timeoutMs;
  let current = url;
  for (let hop = 0; ; hop++) {
    const u = new URL(current);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new OutboundError(`${u.protocol} URLs are not fetched`);
    const host = u.host.toLowerCase();
    if (!policy.hosts.has(host)) throw new OutboundError(`host ${u.host} is not a configured origin`);
    const allowPrivate = policy.privateHosts.has(host);
    const name = u.hostname.replace(/^\[|\]$/g, "");
    if (isIP(name) && !allowPrivate && isPrivateAddress(name)) throw new OutboundError(`${u.hostname} is a private address`);
    const res = await once(u, allowPrivate, req, deadline);
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      if (hop >= (req.maxRedirects ?? 3)) throw new OutboundError("too many redirects");
      current = new URL(res.headers.location, u).toString();
      continue;
    }
    return { ...res, url: current };
  }
}

function once(u: URL, allowPrivate: boolean, req: OutboundRequest, deadline: number): Promise<Omit<OutboundResponse, "url">> {
  return new Promise((resolve, reject) => {
    const left = deadline - Date.now();
    if (left <= 0) return reject(new OutboundError(`no answer within ${req.timeoutMs} ms`));
    const mod = u.protocol === "https:" ? https : http;
    const r = mod.get(u, { headers: req.headers, lookup: checkedLookup(allowPrivate), agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (req.readBody === false || (status >= 300 && status < 400)) {
        res.destroy();
        clearTimeout(timer);
        return resolve({ status, headers: res.headers, body: Buffer.alloc(0) });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > req.maxBytes) {
          res.destroy();
          clearTimeout(timer);
          reject(new OutboundError(`body over ${req.maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        reject(e instanceof OutboundError ? e : new OutboundError(e.message));
      });
    });
    const timer = setTimeout(() => {
      r.destroy(new OutboundError(`no answer within ${req.timeoutMs} ms`));
    }, left);
    r.on("error", (e) => {
      clearTimeout(timer);
      const err = e as Error & { code?: string };
      reject(e instanceof OutboundError ? e : new OutboundError(err.code ?? err.message));
    });
  });
}
