/** Address arithmetic for laying out the lab; parsing and matching by ipaddr.js. */
import { ipaddr } from '../../ipaddr.js';

export function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
}

export function intToV4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv6 address as one 128-bit number (for the sinkhole's byte layouts). */
export function v6ToBigInt(a: string): bigint {
  return ipaddr.IPv6.parse(a).toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

export interface Cidr {
  family: 4 | 6;
  base: string;
  prefix: number;
}

export function parseCidr(c: string): Cidr | null {
  const [base, p] = c.split('/');
  if (!base || p === undefined || !/^\d{1,3}$/.test(p)) return null;
  const family = ipaddr.IPv4.isValidFourPartDecimal(base) ? 4 : ipaddr.IPv6.isValid(base) ? 6 : 0;
  const prefix = Number(p);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
  return { family, base, prefix };
}

export function cidrContains(c: Cidr, addr: string): boolean {
  if (!ipaddr.isValid(addr)) return false;
  const a = ipaddr.parse(addr);
  return a.kind() === (c.family === 4 ? 'ipv4' : 'ipv6') && a.match(ipaddr.parse(c.base), c.prefix);
}

/** The prefix length of the first subnet containing `addr`, or null. */
export function prefixFor(subnets: string[], addr: string): number | null {
  for (const s of subnets) {
    const c = parseCidr(s);
    if (c && cidrContains(c, addr)) return c.prefix;
  }
  return null;
}

/** The last /30 of an IPv4 subnet: [network, first host, second host]. */
export function lastSlash30(c: Cidr): [string, string, string] {
  const size = 2 ** (32 - c.prefix);
  const net = (v4ToInt(c.base) & ((0xffffffff << (32 - c.prefix)) >>> 0)) >>> 0;
  const base = net + size - 4;
  return [intToV4(base), intToV4(base + 1), intToV4(base + 2)];
}
