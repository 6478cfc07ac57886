/** Small IPv4/IPv6 address arithmetic for laying out the lab (no library needed for this much). */
import { isIPv4, isIPv6 } from 'node:net';

export function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
}

export function intToV4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function v6ToBigInt(a: string): bigint {
  let [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export interface Cidr {
  family: 4 | 6;
  base: string;
  prefix: number;
}

export function parseCidr(c: string): Cidr | null {
  const [base, p] = c.split('/');
  if (!base || p === undefined) return null;
  const prefix = Number(p);
  if (isIPv4(base) && prefix >= 0 && prefix <= 32) return { family: 4, base, prefix };
  if (isIPv6(base) && prefix >= 0 && prefix <= 128) return { family: 6, base, prefix };
  return null;
}

export function cidrContains(c: Cidr, addr: string): boolean {
  if (c.family === 4) {
    if (!isIPv4(addr)) return false;
    const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
    return ((v4ToInt(addr) & mask) >>> 0) === ((v4ToInt(c.base) & mask) >>> 0);
  }
  if (!isIPv6(addr)) return false;
  const shift = BigInt(128 - c.prefix);
  return v6ToBigInt(addr) >> shift === v6ToBigInt(c.base) >> shift;
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
