/**
 * The destination a client originally addressed, before the sinkhole's nftables redirect
 * rewrote it: read from this namespace's conntrack table (/proc/net/nf_conntrack), matching
 * the original tuple's source address, source port and protocol.
 */
import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import { v6ToBigInt } from '../lab/addr.js';

export function normalizeAddress(a: string): string {
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  if (isIPv6(a)) {
    // canonical compressed form via bigint -> groups
    let n = v6ToBigInt(a);
    const g: string[] = [];
    for (let i = 0; i < 8; i++) {
      g.unshift((n & 0xffffn).toString(16));
      n >>= 16n;
    }
    return compressV6(g);
  }
  return a;
}

function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export interface OriginalDst {
  dst: string;
  dstPort: number;
}

/**
 * One socket of a client may send to several destinations (the canary child asks its lab UDP and
 * DNS canaries from one): the entries of that source address and port are told apart by the
 * reply tuple, whose source port is the sinkhole port the redirect delivered to (`localPort`).
 */
export function originalDst(proto: 'tcp' | 'udp', src: string, srcPort: number, file = '/proc/net/nf_conntrack', localPort?: number): OriginalDst | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const want = normalizeAddress(src);
  let first: OriginalDst | null = null;
  for (const line of text.split('\n')) {
    const t = line.split(/\s+/);
    if (t[2] !== proto) continue;
    let s: string | undefined, d: string | undefined, sp: string | undefined, dp: string | undefined, replySp: string | undefined;
    for (const tok of t) {
      if (s === undefined && tok.startsWith('src=')) s = tok.slice(4);
      else if (d === undefined && tok.startsWith('dst=')) d = tok.slice(4);
      else if (sp === undefined && tok.startsWith('sport=')) sp = tok.slice(6);
      else if (dp === undefined && tok.startsWith('dport=')) dp = tok.slice(6);
      else if (dp !== undefined && replySp === undefined && tok.startsWith('sport=')) replySp = tok.slice(6);
    }
    if (s && d && sp && dp && Number(sp) === srcPort && normalizeAddress(s) === want) {
      const found = { dst: normalizeAddress(d), dstPort: Number(dp) };
      if (localPort === undefined || Number(replySp) === localPort) return found;
      first ??= found;
    }
  }
  return first;
}
