/**
 * The destination a client originally addressed, before the sinkhole's nftables redirect
 * rewrote it: read from this network namespace's conntrack table (/proc/net/nf_conntrack).
 *
 * Why conntrack and not getsockopt(SO_ORIGINAL_DST): Node exposes no getsockopt; the one package
 * that wraps it (`sockopt`, a native addon) comes without documentation; and SO_ORIGINAL_DST is
 * TCP-only: a UDP datagram's original destination comes only as IP_RECVORIGDSTADDR ancillary
 * data, which Node's dgram does not expose. SO_ORIGINAL_DST itself answers from this same
 * conntrack entry (looked up by the socket's own tuple, i.e. the reply direction), so reading the
 * table gives the same tuple for both protocols.
 *
 * A line of the table (one entry): `ipv4 2 udp 17 29 [STATE] src= dst= sport= dport= [UNREPLIED]
 * src= dst= sport= dport= [ASSURED] mark= zone= use=`. The first src/dst/sport/dport are the
 * ORIGINAL tuple (the packet as the client sent it), the second the REPLY tuple (what the answer
 * would carry: the inverse of the packet as the sinkhole received it, after the redirect). TCP has
 * its state after the timeout; `[UNREPLIED]` sits between the tuples, `[ASSURED]` after them; with
 * accounting on, `packets= bytes=` follow each tuple. IPv6 addresses are written in full
 * (`fd0a:0231:0000:...`).
 *
 * Why the REPLY tuple: one client socket may send to several redirected destinations (a virtual
 * rig device sends its lab and outside canaries from one UDP socket). The redirect makes every
 * such entry's reply tuple the same, so the kernel's NAT gives the second one a new client port
 * (the reply tuple must be unique): the sinkhole then sees that new port, not the one the client
 * sent from. The reply tuple is exactly what the sinkhole saw (client address and port, its own
 * port), unique by construction, and its line's original tuple names the destination and the
 * client's true source port. Matching the ORIGINAL tuple's source port against the port the
 * sinkhole saw (what this module did before) finds nothing after such a remap, or, worse, another
 * entry whose original port happens to equal the remapped one; it is not kept as a fallback.
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

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackEntry {
  proto: 'tcp' | 'udp';
  original: ConntrackTuple;
  reply: ConntrackTuple;
}

/** One TCP or UDP line of /proc/net/nf_conntrack; null for other protocols and malformed lines. */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const t = line.trim().split(/\s+/);
  const proto = t[2];
  if (proto !== 'tcp' && proto !== 'udp') return null;
  const tuples: Array<Partial<Record<'src' | 'dst' | 'sport' | 'dport', string>>> = [];
  for (const tok of t) {
    const eq = tok.indexOf('=');
    if (eq < 0) continue;
    const key = tok.slice(0, eq);
    if (key !== 'src' && key !== 'dst' && key !== 'sport' && key !== 'dport') continue;
    // Each tuple begins with its src: a second src opens the reply tuple.
    if (key === 'src') tuples.push({});
    const cur = tuples[tuples.length - 1];
    if (!cur || cur[key] !== undefined) return null;
    cur[key] = tok.slice(eq + 1);
  }
  if (tuples.length !== 2) return null;
  const tuple = (x: (typeof tuples)[number]): ConntrackTuple | null => {
    const sport = Number(x.sport);
    const dport = Number(x.dport);
    if (!x.src || !x.dst || !Number.isInteger(sport) || !Number.isInteger(dport) || x.sport === '' || x.dport === '') return null;
    try {
      return { src: normalizeAddress(x.src), dst: normalizeAddress(x.dst), sport, dport };
    } catch {
      return null; // not an address ipaddr can parse: not a line this module understands
    }
  };
  const original = tuple(tuples[0]!);
  const reply = tuple(tuples[1]!);
  return original && reply ? { proto, original, reply } : null;
}

/** The client's original destination and source port, as the conntrack entry of a received packet has them. */
export interface OriginalDst {
  dst: string;
  dstPort: number;
  /** The port the client sent from (differs from the one the sinkhole saw when NAT remapped it). */
  srcPort: number;
}

/** What the sinkhole's socket saw of a packet: the peer's address and port, its own port and (when bound to one) address. */
export interface SeenTuple {
  src: string;
  srcPort: number;
  localPort: number;
  /** The socket's own address: '::' or '0.0.0.0' (a wildcard bind, as a UDP socket reports) says nothing. */
  localAddr?: string;
}

const WILDCARD = new Set(['', '::', '0.0.0.0']);

/**
 * The original tuple of the entry whose REPLY tuple is the packet the sinkhole received: reply
 * src = its own address (checked when the socket knows it), dst = the client as seen, sport = its
 * port, dport = the client's port as seen. Null when no entry matches (no conntrack in this
 * namespace, the entry already gone) or when entries of different destinations match (the
 * sinkhole's address unknown and several of them in use): the caller then logs the destination as
 * unknown rather than guess.
 */
export function originalDst(proto: 'tcp' | 'udp', seen: SeenTuple, file = '/proc/net/nf_conntrack'): OriginalDst | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null; // no conntrack table (module not loaded): the destination is logged as unknown
  }
  const client = normalizeAddress(seen.src);
  const local = seen.localAddr !== undefined && !WILDCARD.has(seen.localAddr) ? normalizeAddress(seen.localAddr) : undefined;
  let found: OriginalDst | null = null;
  for (const line of text.split('\n')) {
    // Cheap test before parsing: the line must hold the sinkhole's port as the reply's sport.
    if (!line.includes(`sport=${seen.localPort} `)) continue;
    const e = parseConntrackLine(line);
    if (!e || e.proto !== proto) continue;
    const r = e.reply;
    if (r.dst !== client || r.dport !== seen.srcPort || r.sport !== seen.localPort || (local !== undefined && r.src !== local)) continue;
    const o = { dst: e.original.dst, dstPort: e.original.dport, srcPort: e.original.sport };
    if (found && (found.dst !== o.dst || found.dstPort !== o.dstPort || found.srcPort !== o.srcPort)) return null;
    found = o;
  }
  return found;
}
