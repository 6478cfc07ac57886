/**
 * The destination a client originally addressed, before the sinkhole's nftables redirect
 * rewrote it: read from this network namespace's conntrack table (/proc/net/nf_conntrack), matching
 * the original tuple's source address, source port and protocol.
 *
 * Why conntrack and not getsockopt(SO_ORIGINAL_DST): Node exposes no getsockopt; the one package
 * that wraps it (`sockopt`, a native addon) comes without documentation; and SO_ORIGINAL_DST is
 * TCP-only: a UDP datagram's original destination comes only as IP_RECVORIGDSTADDR ancillary
 * data, which Node's dgram does not expose. SO_ORIGINAL_DST itself answers from this same
 * conntrack entry, so reading the table gives the same tuple for both protocols.
 */
import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import { ipaddr } from '../../ipaddr.js';

/** An address as the log writes it: IPv4-mapped IPv6 as IPv4, IPv6 compressed (RFC 5952). */
export function normalizeAddress(a: string): string {
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  if (isIPv6(a)) return ipaddr.IPv6.parse(a).toRFC5952String();
  return a;
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
