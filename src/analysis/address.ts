/**
 * Addresses as numbers: IPv4 as one unsigned 32-bit word, IPv6 as four. The hot path never
 * makes strings; formatting happens once per flow.
 */
import { isIPv4, isIPv6 } from 'node:net';
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

/** Dotted quad to a word; -1 when `s` is not one. */
export function parseIPv4(s: string): number {
  let w = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      w = w * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return w * 256 + part;
}

export function parseIPv6(s: string): number[] {
  let head = s;
  let v4tail: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    v4tail = parseIPv4(s.slice(lastColon + 1));
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':') : [];
  const right = r !== undefined ? (r ? r.split(':') : []) : [];
  const groups = new Array<number>(8).fill(0);
  left.forEach((g, i) => (groups[i] = parseInt(g, 16)));
  right.forEach((g, i) => (groups[8 - right.length + i] = parseInt(g, 16)));
  const words = [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
  if (v4tail !== null) words[3] = v4tail;
  return words;
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

/** Parses `10.0.0.0/24`, `2001:db8::/32` or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const prefixText = slash < 0 ? null : t.slice(slash + 1);
  const family: 4 | 6 | 0 = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) throw new LabSpecError(`bad lab CIDR "${text}": "${addr}" is not an IPv4 or IPv6 address`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === null ? max : Number(prefixText);
  if (prefixText !== null && (!/^\d{1,3}$/.test(prefixText) || prefix > max)) {
    throw new LabSpecError(`bad lab CIDR "${text}": prefix must be 0..${max}`);
  }
  const raw = family === 4 ? [parseIPv4(addr)] : parseIPv6(addr);
  const masks = raw.map((_, i) => maskWord(prefix, i));
  const words = raw.map((w, i) => (w & masks[i]!) >>> 0);
  return { family, words, prefix, masks, text: t };
}
