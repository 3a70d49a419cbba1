/**
 * What counts as "this machine only": one definition of a loopback host and of a
 * tcp endpoint's host and port, shared by the node's options check, its HTTP
 * listener and the CLI.
 */
import { isIP } from 'node:net';

/** Host and port of a `tcp://HOST:PORT` endpoint; `port` is `*` when the OS picks one. */
export interface TcpEndpoint {
  /** Without the brackets of an IPv6 literal (`::1`, not `[::1]`). */
  readonly host: string;
  readonly port: number | '*';
  /** True when the host is an IPv6 literal (ZeroMQ sockets need their `ipv6` option for it). */
  readonly ipv6: boolean;
}

const TCP = /^tcp:\/\/(\[[^\]]+\]|[^:[\]]+):(\d{1,5}|\*)$/;

/**
 * Parses `tcp://HOST:PORT` (HOST a name, an IPv4 address or a bracketed IPv6
 * literal such as `[::1]`; PORT a number or `*`). Undefined for anything else,
 * including other transports.
 */
export function parseTcpEndpoint(endpoint: string): TcpEndpoint | undefined {
  const m = TCP.exec(endpoint);
  if (m === null) return undefined;
  const bracketed = m[1]!.startsWith('[');
  const host = bracketed ? m[1]!.slice(1, -1) : m[1]!;
  if (bracketed && isIP(host) !== 6) return undefined;
  const port = m[2] === '*' ? '*' : Number(m[2]);
  if (port !== '*' && port > 65535) return undefined;
  return { host, port, ipv6: bracketed };
}

/**
 * True for a host that only this machine can reach: `localhost`, 127.0.0.0/8,
 * `::1` (in any spelling, with or without brackets) and IPv4-mapped 127.x
 * (`::ffff:127.0.0.1`).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return h.startsWith('127.');
  if (family !== 6) return false;
  const groups = expandIpv6(h.toLowerCase());
  if (groups === undefined) return false;
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return true;
  // ::ffff:127.x.y.z (IPv4-mapped loopback)
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff && groups[6]! >> 8 === 127;
}

/** True for a `tcp://` endpoint whose host is loopback (see {@link isLoopbackHost}). */
export function isLoopbackTcpEndpoint(endpoint: string): boolean {
  const tcp = parseTcpEndpoint(endpoint);
  return tcp !== undefined && isLoopbackHost(tcp.host);
}

/** The eight 16-bit groups of an IPv6 address (already checked by isIP), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s.length === 0 ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  return [...left, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
}

/** True when `endpoint` names an IPv6 literal host: a ZeroMQ socket must have `ipv6` set to bind or connect it. */
export function needsIpv6(endpoint: string): boolean {
  return parseTcpEndpoint(endpoint)?.ipv6 === true;
}
