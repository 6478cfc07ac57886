/**
 * Addresses as numbers: IPv4 as one unsigned 32-bit word, IPv6 as four. The hot path never
 * makes strings; formatting happens once per flow.
 */
import { ipaddr, type IPv4, type IPv6 } from '../ipaddr.js';
import { LabSpecError } from './errors.js';

export interface Cidr {
  family: 4 | 6;
  /** Network words (one for IPv4, four for IPv6), already masked. */
  words: number[];
  prefix: number;
  /** Masks per word. */
  masks: number[];
  text: string;
}

/** The address's bytes as 32-bit words (one for IPv4, four for IPv6). */
function wordsOf(addr: IPv4 | IPv6): number[] {
  const b = addr.toByteArray();
  const words: number[] = [];
  for (let i = 0; i < b.length; i += 4) words.push(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
  return words;
}

/** Dotted quad to a word; -1 when `s` is not one. Parsed by ipaddr.js; only the matching is ours. */
export function parseIPv4(s: string): number {
  if (!ipaddr.IPv4.isValidFourPartDecimal(s)) return -1;
  return wordsOf(ipaddr.IPv4.parse(s))[0]!;
}

/** IPv6 text (any form RFC 4291 allows, with an IPv4 tail) to four words; throws on anything else. */
export function parseIPv6(s: string): number[] {
  return wordsOf(ipaddr.IPv6.parse(s));
}

export function formatIPv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

/** RFC 5952 text (lower case, longest run of zero groups compressed), as tshark prints. */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

function maskWord(prefix: number, word: number): number {
  const bits = Math.max(0, Math.min(32, prefix - 32 * word));
  return bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Parses `10.0.0.0/24`, `2001:db8::/32` or a bare address (a /32 or /128) with ipaddr.js, then
 * keeps it as masked words: the per-packet match (src/analysis/egress-policy.ts) compares numbers.
 */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash < 0 ? t : t.slice(0, slash);
  const family: 4 | 6 | 0 = ipaddr.IPv4.isValidFourPartDecimal(addrText) ? 4 : ipaddr.IPv6.isValid(addrText) ? 6 : 0;
  if (family === 0) throw new LabSpecError(`bad lab CIDR "${text}": "${addrText}" is not an IPv4 or IPv6 address`);
  const max = family === 4 ? 32 : 128;
  let addr: IPv4 | IPv6;
  let prefix: number;
  if (slash < 0) {
    addr = ipaddr.parse(addrText);
    prefix = max;
  } else {
    const prefixText = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw new LabSpecError(`bad lab CIDR "${text}": prefix must be 0..${max}`);
    [addr, prefix] = ipaddr.parseCIDR(t);
  }
  const raw = wordsOf(addr);
  const masks = raw.map((_, i) => maskWord(prefix, i));
  const words = raw.map((w, i) => (w & masks[i]!) >>> 0);
  return { family, words, prefix, masks, text: t };
}
