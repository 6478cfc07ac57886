/**
 * The egress rules of scan.ts written a second time, for reading rather than for speed.
 *
 * scan.ts is the hot path: one decoder object, flows in typed arrays, flag bits, interned names.
 * This file applies the same rules with plain objects, strings and Maps, one step at a time, so a
 * certifier can check the rules here and test/analysis/reference-agreement.test.ts can check that
 * both give the same findings on every fixture and on generated captures. What the rules are is
 * described in docs/certifier/what-counts-as-leaving.md.
 *
 * Shared with the hot path (they are parsers, checked against tshark on their own): the capture
 * reader, the name parsers of app-names.ts, the QUIC Initial decryption and the canary check.
 * Written here again: the decoding of every layer, the flow table, the egress and name rules,
 * how packets are grouped into findings and which names a finding lists.
 */
import { BlockList, isIPv4 } from 'node:net';
import path from 'node:path';
import { readCapture, type CapturePacket } from './capture-reader.js';
import { dnsNextQuestion, dnsQuestionName, httpHosts, isQuicInitial, looksLikeHttpRequest, tlsClientHelloRecordLength, tlsServerName } from './app-names.js';
import { CANARY_DNS_SUFFIX, CANARY_PORT, CANARY_TOLERANCE_MS, decodeCanary, decodeDnsCanary, type Canary } from './canary.js';
import { QuicCryptoAssembler } from './quic-initial.js';
import { CISCO_SNAP_CONTROL, LINK_CONTROL_ETHERTYPES, PPP_CONTROL_PROTOCOLS, Unjudged, describeUnjudged, isLlcControl } from './frame-types.js';
import type { FoundName, Verdict } from './finding.js';
import type { ScanOptions } from './scan.js';

/** The fields of a network finding that the rules decide (no catalogue annotation, no summary text). */
export interface ReferenceFinding {
  file: string;
  packet: number;
  lastPacket: number;
  count: number;
  time: string;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  protocol: string;
  reason: string;
  name?: string;
  names?: FoundName[];
  srcMac?: string;
}

export interface ReferenceScan {
  verdict: Verdict;
  findings: ReferenceFinding[];
  /** Frame types not judged, per file: `ethertype 0x88b5` and how many. */
  unjudged: Array<{ file: string; type: string; count: number; packet: number }>;
}

/** One IP packet found in a frame (the frame's own, or one carried inside a tunnel). */
interface IpPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  /** 0 when the protocol has no ports or the header is cut short. */
  sport: number;
  dport: number;
  /** TCP or UDP payload (empty for other protocols and non-first fragments). */
  payload: Buffer;
  tcpSeq: number;
  /** The bytes after the IP header(s): what a tunnel protocol carries. */
  l4: Buffer;
  /** For fragments: the key shared by all fragments of the datagram, and whether this is the first. */
  fragmentKey?: string;
  firstFragment: boolean;
  /** Nesting depth (0: the frame's own packet). */
  depth: number;
}

/** What one frame holds, after every layer this analyzer knows is opened. */
interface DecodedFrame {
  packets: IpPacket[];
  mac?: string;
  control: number;
  unjudged: Array<{ kind: number; value: number }>;
  malformed: number;
}

const MAX_DEPTH = 6;
const TCP = 6;
const UDP = 17;
const GRE = 47;

const u16 = (b: Buffer, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Buffer, o: number) => b.readUInt32BE(o);
/** The MAC at `o` as text; an all-zero address counts as none (as in scan.ts). */
const macText = (b: Buffer, o: number) => (b.subarray(o, o + 6).some((x) => x !== 0) ? [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':') : undefined);

function ipv4Text(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text of the IPv6 address at `o` (the URL parser writes exactly that form). */
function ipv6Text(b: Buffer, o: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(b, o + 2 * i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

// ------------------------------------------------------------------ decoding, layer by layer

const RADIO_LINK_TYPES = [105, 127, 251, 256, 272];

function decodeFrame(p: CapturePacket): DecodedFrame {
  let frame = p.frame();
  let linkType = p.linkType;
  const out: DecodedFrame = { packets: [], control: 0, unjudged: [], malformed: 0 };
  if (linkType === 149 || linkType === 258) {
    // Apple PKTAP: a little-endian header (its length first, record type at 4, inner link type at 8).
    if (frame.length < 12) return { ...out, malformed: 1 };
    const headerLength = frame.readUInt32LE(0);
    if (headerLength < 12 || headerLength > frame.length) return { ...out, malformed: 1 };
    if (frame.readUInt32LE(4) !== 1) return out; // no packet follows the header
    linkType = frame.readUInt32LE(8);
    frame = frame.subarray(headerLength);
    if ([...RADIO_LINK_TYPES, 149, 258].includes(linkType)) return { ...out, unjudged: [{ kind: Unjudged.LINK_TYPE, value: linkType }] };
  }
  switch (linkType) {
    case 1:
      ethernet(frame, 0, out);
      break;
    case 113:
      if (frame.length < 16) out.malformed++;
      else {
        if (frame[4] === 0 && frame[5] === 6) out.mac = macText(frame, 6);
        const proto = u16(frame, 14);
        if (proto === 4) llc(frame.subarray(16), 0, out);
        else etherPayload(proto, frame.subarray(16), 0, out);
      }
      break;
    case 276:
      if (frame.length < 20) out.malformed++;
      else {
        if (frame[11] === 6) out.mac = macText(frame, 12);
        const proto = u16(frame, 0);
        if (proto === 4) llc(frame.subarray(20), 0, out);
        else etherPayload(proto, frame.subarray(20), 0, out);
      }
      break;
    case 101:
    case 12:
    case 14:
      if (frame.length < 1) out.malformed++;
      else if (frame[0]! >> 4 === 4) ip(4, frame, 0, out);
      else if (frame[0]! >> 4 === 6) ip(6, frame, 0, out);
      else out.malformed++;
      break;
    case 228:
      ip(4, frame, 0, out);
      break;
    case 229:
      ip(6, frame, 0, out);
      break;
    case 0:
    case 108: {
      if (frame.length < 4) {
        out.malformed++;
        break;
      }
      const family = frame[0] !== 0 ? frame[0]! : frame[3]!;
      if (family === 2) ip(4, frame.subarray(4), 0, out);
      else if (family === 24 || family === 28 || family === 30) ip(6, frame.subarray(4), 0, out);
      else out.unjudged.push({ kind: Unjudged.LINK_TYPE, value: 1000 + family });
      break;
    }
    default:
      out.unjudged.push({ kind: Unjudged.LINK_TYPE, value: linkType });
  }
  return out;
}

function ethernet(b: Buffer, depth: number, out: DecodedFrame): void {
  if (b.length < 14) return void out.malformed++;
  if (depth === 0) out.mac = macText(b, 6);
  let type = u16(b, 12);
  let o = 14;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (b.length - o < 4) return void out.malformed++;
    type = u16(b, o + 2);
    o += 4;
  }
  if (type <= 1500) llc(b.subarray(o, o + type), depth, out);
  else etherPayload(type, b.subarray(o), depth, out);
}

function etherPayload(type: number, b: Buffer, depth: number, out: DecodedFrame): void {
  if (type === 0x0800) ip(4, b, depth, out);
  else if (type === 0x86dd) ip(6, b, depth, out);
  else if (type === 0x8864) pppoe(b, depth, out);
  else if (type === 0x8847 || type === 0x8848) mpls(b, depth, out);
  else if (LINK_CONTROL_ETHERTYPES.has(type)) out.control++;
  else out.unjudged.push({ kind: Unjudged.ETHERTYPE, value: type });
}

function llc(b: Buffer, depth: number, out: DecodedFrame): void {
  if (b.length < 3) return void out.malformed++;
  if (b[0] === 0xaa && b[1] === 0xaa && b[2] === 0x03) {
    if (b.length < 8) return void out.malformed++;
    const oui = (b[3]! << 16) | u16(b, 4);
    const pid = u16(b, 6);
    if (oui === 0 || oui === 0xf8) etherPayload(pid, b.subarray(8), depth, out);
    else if (oui === 0x00000c && CISCO_SNAP_CONTROL.has(pid)) out.control++;
    else out.unjudged.push({ kind: Unjudged.SNAP, value: oui * 65536 + pid });
    return;
  }
  if (isLlcControl(b[0]!, b[1]!, b[2]!)) out.control++;
  else out.unjudged.push({ kind: Unjudged.LLC, value: (b[0]! << 8) | b[1]! });
}

function pppoe(b: Buffer, depth: number, out: DecodedFrame): void {
  if (b.length < 8) return void out.malformed++;
  ppp(b.subarray(6, 6 + u16(b, 4)), depth, out);
}

function ppp(b: Buffer, depth: number, out: DecodedFrame): void {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0x03) b = b.subarray(2);
  if (b.length < 1) return void out.malformed++;
  let proto: number;
  if (b[0]! & 1) {
    proto = b[0]!;
    b = b.subarray(1);
  } else {
    if (b.length < 2) return void out.malformed++;
    proto = u16(b, 0);
    b = b.subarray(2);
  }
  if (proto === 0x0021) ip(4, b, depth, out);
  else if (proto === 0x0057) ip(6, b, depth, out);
  else if (proto === 0x0281 || proto === 0x0283) mpls(b, depth, out);
  else if (PPP_CONTROL_PROTOCOLS.has(proto)) out.control++;
  else out.unjudged.push({ kind: Unjudged.PPP, value: proto });
}

function mpls(b: Buffer, depth: number, out: DecodedFrame): void {
  let o = 0;
  for (;;) {
    if (b.length - o < 4) return void out.malformed++;
    const bottomOfStack = b[o + 2]! & 1;
    o += 4;
    if (bottomOfStack) break;
  }
  if (b.length - o < 1) return void out.malformed++;
  const nibble = b[o]! >> 4;
  if (nibble === 4) ip(4, b.subarray(o), depth, out);
  else if (nibble === 6) ip(6, b.subarray(o), depth, out);
  else if (nibble === 0) ethernet(b.subarray(o + 4), depth, out);
  else out.unjudged.push({ kind: Unjudged.MPLS_PAYLOAD, value: nibble });
}

function gre(b: Buffer, depth: number, out: DecodedFrame): void {
  if (b.length < 4) return void out.malformed++;
  const flags = u16(b, 0);
  const proto = u16(b, 2);
  if (flags & 0x4000) return void out.unjudged.push({ kind: Unjudged.GRE_ROUTING, value: 0 });
  let o = 4;
  if (flags & 0x8000) o += 4;
  if (flags & 0x2000) o += 4;
  const sequenced = (flags & 0x1000) !== 0;
  if (sequenced) o += 4;
  if ((flags & 7) === 1 && flags & 0x0080) o += 4;
  if (o > b.length) return void out.malformed++;
  const inner = b.subarray(o);
  if (proto === 0x0800) ip(4, inner, depth, out);
  else if (proto === 0x86dd) ip(6, inner, depth, out);
  else if (proto === 0x6558) ethernet(inner, depth, out);
  else if (proto === 0x88be) ethernet(sequenced ? inner.subarray(8) : inner, depth, out);
  else if (proto === 0x22eb) {
    if (inner.length < 12) return void out.malformed++;
    ethernet(inner.subarray(12 + (inner[11]! & 1 ? 8 : 0)), depth, out);
  } else if (proto === 0x8847 || proto === 0x8848) mpls(inner, depth, out);
  else if (proto === 0x880b) ppp(inner, depth, out);
  else out.unjudged.push({ kind: Unjudged.GRE, value: proto });
}

function udpTunnel(pk: IpPacket, depth: number, out: DecodedFrame): void {
  const b = pk.payload;
  const { sport, dport } = pk;
  if ((dport === 4789 || dport === 8472) && b.length >= 22 && b[0]! & 0x08) ethernet(b.subarray(8), depth, out);
  else if (dport === 4790 && b.length >= 8 && b[0]! & 0x04) {
    const next = b[3]!;
    if (next === 1) ip(4, b.subarray(8), depth, out);
    else if (next === 2) ip(6, b.subarray(8), depth, out);
    else if (next === 3) ethernet(b.subarray(8), depth, out);
    else if (next === 5) mpls(b.subarray(8), depth, out);
    else out.unjudged.push({ kind: Unjudged.ETHERTYPE, value: 0x10000 + next });
  } else if (dport === 6081 && b.length >= 8) {
    const o = 8 + (b[0]! & 0x3f) * 4;
    const proto = u16(b, 2);
    if (o >= b.length) out.malformed++;
    else if (proto === 0x6558) ethernet(b.subarray(o), depth, out);
    else etherPayload(proto, b.subarray(o), depth, out);
  } else if (sport === 3544 || dport === 3544) {
    let o = 0;
    if (b.length - o >= 13 && b[o] === 0 && b[o + 1] === 1) o += 4 + b[o + 2]! + b[o + 3]! + 9;
    if (b.length - o >= 8 && b[o] === 0 && b[o + 1] === 0) o += 8;
    if (b.length - o >= 40 && b[o]! >> 4 === 6) ip(6, b.subarray(o), depth, out);
  } else if (b.length >= 40 && b[0]! >> 4 === 6 && u16(b, 4) + 40 === b.length && (u32(b, 8) === 0x20010000 || u32(b, 24) === 0x20010000)) {
    ip(6, b, depth, out);
  }
}

/** An IP packet: its addresses, protocol and ports, then whatever tunnel it carries. */
function ip(family: 4 | 6, b: Buffer, depth: number, out: DecodedFrame): void {
  if (depth > MAX_DEPTH) return void out.unjudged.push({ kind: Unjudged.NESTING, value: MAX_DEPTH });
  let src: string, dst: string, proto: number, l4: number;
  let end = b.length;
  let fragmentKey: string | undefined;
  let firstFragment = false;
  let nonFirst = false;
  if (family === 4) {
    if (b.length < 20 || b[0]! >> 4 !== 4) return void out.malformed++;
    const ihl = (b[0]! & 15) * 4;
    const total = u16(b, 2);
    if (ihl < 20 || b.length < ihl) return void out.malformed++;
    if (total >= ihl && total < end) end = total;
    proto = b[9]!;
    src = ipv4Text(b, 12);
    dst = ipv4Text(b, 16);
    const frag = u16(b, 6);
    if (frag & 0x3fff) {
      fragmentKey = `4/${src}/${dst}/${proto}/${u16(b, 4)}`;
      nonFirst = (frag & 0x1fff) !== 0;
      firstFragment = !nonFirst;
    }
    l4 = ihl;
  } else {
    if (b.length < 40 || b[0]! >> 4 !== 6) return void out.malformed++;
    const plen = u16(b, 4);
    if (plen > 0 && 40 + plen < end) end = 40 + plen;
    src = ipv6Text(b, 8);
    dst = ipv6Text(b, 24);
    proto = b[6]!;
    l4 = 40;
    for (let hops = 0; hops < 8; hops++) {
      if ([0, 43, 60, 135, 139, 140].includes(proto)) {
        if (end - l4 < 8) break;
        proto = b[l4]!;
        l4 += (b[l4 + 1]! + 1) * 8;
      } else if (proto === 51) {
        if (end - l4 < 8) break;
        proto = b[l4]!;
        l4 += (b[l4 + 1]! + 2) * 4;
      } else if (proto === 44) {
        if (end - l4 < 8) break;
        const offset = u16(b, l4 + 2) >> 3;
        const more = b[l4 + 3]! & 1;
        const id = u32(b, l4 + 4);
        proto = b[l4]!;
        l4 += 8;
        if (offset !== 0 || more) {
          fragmentKey = `6/${src}/${dst}/${id}`;
          nonFirst = offset !== 0;
          firstFragment = !nonFirst;
        }
      } else break;
    }
    // Still inside the extension headers: what the packet carries was not reached, so not judged.
    if (!nonFirst && [0, 43, 60, 135, 139, 140, 51, 44].includes(proto)) out.unjudged.push({ kind: Unjudged.IPV6_EXTENSIONS, value: proto });
    if (l4 > end) l4 = end;
  }
  const pk: IpPacket = { family, src, dst, proto, sport: 0, dport: 0, payload: Buffer.alloc(0), tcpSeq: 0, l4: b.subarray(l4, end), fragmentKey, firstFragment, depth };
  if (!nonFirst) {
    if (proto === TCP && end - l4 >= 20) {
      pk.sport = u16(b, l4);
      pk.dport = u16(b, l4 + 2);
      pk.tcpSeq = u32(b, l4 + 4);
      pk.payload = b.subarray(Math.min(l4 + (b[l4 + 12]! >> 4) * 4, end), end);
    } else if (proto === UDP && end - l4 >= 8) {
      pk.sport = u16(b, l4);
      pk.dport = u16(b, l4 + 2);
      const ulen = u16(b, l4 + 4);
      const udpEnd = ulen >= 8 && l4 + ulen < end ? l4 + ulen : end;
      pk.payload = b.subarray(l4 + 8, udpEnd);
      // A query in fragments: its names may lie in a later fragment, which is not read for them.
      if (firstFragment && pk.dport === 53) out.unjudged.push({ kind: Unjudged.DNS_FRAGMENT, value: 53 });
    }
  }
  out.packets.push(pk);
  if (nonFirst) return;
  if (proto === GRE) gre(pk.l4, depth + 1, out);
  else if (proto === 41) ip(6, pk.l4, depth + 1, out);
  else if (proto === 4) ip(4, pk.l4, depth + 1, out);
  else if (proto === UDP && pk.payload.length >= 8) udpTunnel(pk, depth + 1, out);
}

// ------------------------------------------------------------------ the rules

/** DESIGN of the lab: which addresses are in it and which destinations never leave the link. */
class LabRules {
  private readonly lab = new BlockList();
  private readonly broadcasts = new Set<string>();
  private readonly names: string[];

  constructor(cidrs: string[], names: string[]) {
    for (const c of cidrs) {
      const [net, prefix] = c.split('/') as [string, string];
      const bits = Number(prefix);
      this.lab.addSubnet(net, bits, isIPv4(net) ? 'ipv4' : 'ipv6');
      if (isIPv4(net) && bits < 31) {
        const n = net.split('.').reduce((a, x) => a * 256 + Number(x), 0);
        const size = 2 ** (32 - bits);
        const bcast = Math.floor(n / size) * size + size - 1;
        this.broadcasts.add([24, 16, 8, 0].map((s) => Math.floor(bcast / 2 ** s) % 256).join('.'));
      }
    }
    this.names = names.map((n) => n.trim().toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '')).filter(Boolean);
  }

  inLab(a: string, family: 4 | 6): boolean {
    return this.lab.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Destinations a router never forwards: broadcast, link-local multicast, IPv6 link-local. */
  confined(dst: string, family: 4 | 6): boolean {
    if (family === 4) {
      const [a, b, c] = dst.split('.').map(Number) as [number, number, number];
      return dst === '255.255.255.255' || (a === 224 && b === 0 && c === 0) || a === 239 || this.broadcasts.has(dst);
    }
    const first = parseInt(dst.split(':')[0] || '0', 16);
    if ((first & 0xffc0) === 0xfe80) return true;
    if (first >> 8 === 0xff) return (first & 0xf) <= 5;
    return false;
  }

  /** The packet src -> dst leaves the lab. */
  egress(p: { family: 4 | 6; src: string; dst: string; proto: number; sport: number; dport: number }): boolean {
    if (this.confined(p.dst, p.family)) return false;
    if (!this.inLab(p.dst, p.family)) return true;
    if (this.inLab(p.src, p.family)) return false;
    if (p.family === 4) return !(p.src === '0.0.0.0' && p.proto === UDP && p.sport === 68 && p.dport === 67);
    if ((parseInt(p.src.split(':')[0] || '0', 16) & 0xffc0) === 0xfe80) return false;
    return !(p.src === '::' && p.proto === 58);
  }

  nameAllowed(name: string): boolean {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n === 'local' || n.endsWith('.local')) return true;
    return this.names.some((l) => n === l || n.endsWith('.' + l));
  }
}

interface NameSeen {
  name: string;
  packet: number;
  ms: number;
  protocol: 'dns' | 'tls' | 'http' | 'quic';
  /** DNS only: a resolver would carry it out of the lab. */
  bad: boolean;
}

interface Flow {
  family: 4 | 6;
  proto: number;
  /** The two ends; `initiatorEnd` sent the flow's first packet. */
  ends: [{ address: string; port: number }, { address: string; port: number }];
  /** Whether packets from end 0 / end 1 leave the lab (decided once, by the first packet's tuple). */
  leaves: [boolean, boolean];
  /** Whether packets from end 0 / end 1 go to a link-confined destination. */
  confined: [boolean, boolean];
  initiatorEnd: 0 | 1;
  mac?: string;
  count: number;
  first: number;
  last: number;
  replies: number;
  protocol?: 'dns' | 'tls' | 'http' | 'quic';
  firstName?: string;
  firstBadName?: string;
  /** DNS names by name (for answers and counts), app names once each. */
  dnsNames: Map<string, NameSeen & { dir: 0 | 1; answered: boolean }>;
  appNames: NameSeen[];
  named: boolean;
  searched: number;
  pendingHello?: { bytes: Buffer; need: number; nextSeq: number };
  /** DNS over TCP, per end: the incomplete message its last segment ended with. */
  dnsTcpTail?: [{ bytes: Buffer; nextSeq: number } | undefined, { bytes: Buffer; nextSeq: number } | undefined];
  quic?: QuicCryptoAssembler;
  findingPackets: number;
  firstFinding?: { packet: number; ms: number; from: 0 | 1 };
  lastFinding: number;
  /** The ends that sent an accepted canary on this flow. */
  canaryFrom?: Set<0 | 1>;
}

/** How long before a window canaries are still looked at (their answers may fall inside it). */
const CANARY_LOOKBACK_MS = 5000;

/** The canary a packet carries with a valid mark for its own addresses and ports, or null. */
function canaryOf(pk: IpPacket, secret: string): Canary | null {
  const bound = (srcPort: number, dstPort: number) => ({ src: pk.src, dst: pk.dst, srcPort, dstPort });
  if ((pk.proto === UDP || pk.proto === TCP) && pk.dport === CANARY_PORT) {
    if (pk.proto === TCP && (pk.l4.length < 14 || (pk.l4[13]! & 0x12) !== 0x02)) return null; // only a SYN
    const c = decodeCanary(secret, pk.payload, bound(pk.sport, pk.dport));
    return c && c.protocol === (pk.proto === UDP ? 'udp' : 'tcp') ? c : null;
  }
  if (pk.proto === UDP && pk.dport === 53) {
    if (pk.payload.length < 12 || (pk.payload[2]! & 0x80) !== 0) return null; // a query, not an answer
    const name = dnsQuestionName(pk.payload, 0, pk.payload.length);
    return name && name.endsWith(CANARY_DNS_SUFFIX) ? decodeDnsCanary(secret, name, bound(pk.sport, pk.dport)) : null;
  }
  if ((pk.proto === 1 && pk.l4[0] === 8) || (pk.proto === 58 && pk.l4[0] === 128)) {
    if (pk.l4.length < 8) return null;
    const c = decodeCanary(secret, pk.l4.subarray(8), bound(u16(pk.l4, 4), u16(pk.l4, 6)));
    return c && c.protocol === 'icmp' ? c : null;
  }
  return null;
}

const NAME_SEARCH_PACKETS = 6;
const MAX_HELLO = 16384 + 5;
const DNS_PORTS = [53, 5353, 5355];

function protoName(proto: number): string {
  return proto === TCP ? 'tcp' : proto === UDP ? 'udp' : proto === 1 ? 'icmp' : proto === 58 ? 'icmpv6' : String(proto);
}

/** Scans `files` with the same rules as scanCaptures, plainly. */
export async function referenceScan(files: string[], opts: ScanOptions): Promise<ReferenceScan> {
  const rules = new LabRules(opts.lab, opts.labNames ?? []);
  const from = opts.fromMs ?? -Infinity;
  const to = opts.toMs ?? Infinity;
  const findings: ReferenceFinding[] = [];
  const unjudged: ReferenceScan['unjudged'] = [];
  let damaged = false;

  for (const file of files) {
    const label = opts.baseDir ? path.relative(opts.baseDir, file) : file;
    const flows = new Map<string, Flow>();
    const fragments = new Map<string, Flow>();
    const unknown = new Map<string, { count: number; packet: number }>();

    const flowOf = (pk: IpPacket, mac: string | undefined): { flow: Flow; from: 0 | 1; id: string; created: boolean } => {
      const a = { address: pk.src, port: pk.sport };
      const b = { address: pk.dst, port: pk.dport };
      const key = (e: { address: string; port: number }) => `${e.address} ${e.port}`;
      const sorted = key(a) <= key(b) ? [a, b] : [b, a];
      const id = `${pk.family} ${pk.proto} ${key(sorted[0]!)} ${key(sorted[1]!)}`;
      let flow = flows.get(id);
      const created = !flow;
      if (!flow) {
        const reverse = { family: pk.family, src: pk.dst, dst: pk.src, proto: pk.proto, sport: pk.dport, dport: pk.sport };
        const end0IsSrc = sorted[0] === a;
        const fwd = rules.egress(pk);
        const rev = rules.egress(reverse);
        flow = {
          family: pk.family,
          proto: pk.proto,
          ends: [sorted[0]!, sorted[1]!],
          leaves: end0IsSrc ? [fwd, rev] : [rev, fwd],
          confined: end0IsSrc ? [rules.confined(pk.dst, pk.family), rules.confined(pk.src, pk.family)] : [rules.confined(pk.src, pk.family), rules.confined(pk.dst, pk.family)],
          initiatorEnd: end0IsSrc ? 0 : 1,
          mac,
          count: 0,
          first: 0,
          last: 0,
          replies: 0,
          dnsNames: new Map(),
          appNames: [],
          named: false,
          searched: 0,
          findingPackets: 0,
          lastFinding: 0,
        };
        flows.set(id, flow);
      }
      return { flow, from: flow.ends[0].address === pk.src && flow.ends[0].port === pk.sport ? 0 : 1, id, created };
    };

    let packetNo = 0;
    let packetMs = 0;
    const seen = (flow: Flow, from: 0 | 1) => {
      if (flow.count === 0) flow.first = packetNo;
      flow.count++;
      flow.last = packetNo;
      if (from !== flow.initiatorEnd) flow.replies++;
    };
    const finding = (flow: Flow, from: 0 | 1) => {
      if (flow.findingPackets === 0) flow.firstFinding = { packet: packetNo, ms: packetMs, from };
      flow.findingPackets++;
      flow.lastFinding = packetNo;
    };
    const addName = (flow: Flow, name: string, protocol: 'tls' | 'http' | 'quic') => {
      const previous = flow.firstName;
      if (previous === undefined) flow.firstName = name;
      flow.named = true;
      if (previous === name && protocol !== 'http') return;
      if (flow.appNames.some((n) => n.name === name)) return;
      flow.appNames.push({ name, packet: packetNo, ms: packetMs, protocol, bad: false });
    };

    /** A DNS message: true when it is a query for a name that must not leave. */
    const dnsMessage = (flow: Flow, from: 0 | 1, msg: Buffer): boolean => {
      if (msg.length < 17 || u16(msg, 4) === 0) return false;
      flow.protocol = 'dns';
      // Every question of the message (RFC 1035 section 4.1.2), up to the first that cannot be read.
      let anyBad = false;
      let at = 12;
      for (let q = 0; q < u16(msg, 4); q++) {
        if (q > 0) at = dnsNextQuestion(msg, msg.length, at);
        if (at < 0) break;
        const name = dnsQuestionName(msg, 0, msg.length, at);
        if (name === null) break;
        const known = flow.dnsNames.get(name);
        if (msg[2]! & 0x80) {
          if (known && known.dir !== from) known.answered = true;
          continue;
        }
        const bad = !flow.confined[from] && !rules.nameAllowed(name);
        if (!known) flow.dnsNames.set(name, { name, packet: packetNo, ms: packetMs, protocol: 'dns', bad, dir: from, answered: false });
        if (flow.firstName === undefined) {
          flow.firstName = name;
          flow.named = true;
        }
        if (bad) flow.firstBadName ??= name;
        if (bad) anyBad = true;
      }
      return anyBad;
    };

    const searchTcpName = (flow: Flow, pk: IpPacket) => {
      flow.searched++;
      const data = pk.payload;
      if (flow.pendingHello) {
        const h = flow.pendingHello;
        if (pk.tcpSeq !== h.nextSeq) return;
        h.bytes = Buffer.concat([h.bytes, data.subarray(0, h.need - h.bytes.length)]);
        h.nextSeq = (pk.tcpSeq + data.length) >>> 0;
        if (h.bytes.length >= h.need) {
          flow.pendingHello = undefined;
          const sni = tlsServerName(h.bytes, 0, h.need);
          if (sni) addName(flow, sni, 'tls');
        }
        return;
      }
      const need = tlsClientHelloRecordLength(data, 0, data.length);
      if (need > 0) {
        flow.protocol ??= 'tls';
        if (need <= data.length) {
          const sni = tlsServerName(data, 0, need);
          if (sni) addName(flow, sni, 'tls');
        } else if (need <= MAX_HELLO) flow.pendingHello = { bytes: Buffer.from(data), need, nextSeq: (pk.tcpSeq + data.length) >>> 0 };
        return;
      }
      if (flow.protocol === 'http' || looksLikeHttpRequest(data, 0, data.length)) {
        flow.protocol = 'http';
        for (const host of httpHosts(data, 0, data.length)) addName(flow, host, 'http');
      }
    };

    const acceptedCanaries = new Set<string>();
    let early = false;

    const judge = (pk: IpPacket, mac: string | undefined): void => {
      // A later fragment belongs to its first fragment's flow.
      if (pk.fragmentKey && !pk.firstFragment) {
        const flow = fragments.get(pk.fragmentKey);
        if (flow) {
          const from: 0 | 1 = flow.ends[0].address === pk.src ? 0 : 1;
          seen(flow, from);
          if (flow.leaves[from]) finding(flow, from);
          return;
        }
      }
      const { flow, from, id, created } = flowOf(pk, mac);
      if (pk.fragmentKey && pk.firstFragment) fragments.set(pk.fragmentKey, flow);
      const nonFirst = pk.fragmentKey !== undefined && !pk.firstFragment;
      if (opts.canarySecret !== undefined && !nonFirst) {
        // A canary counts once per capture, and only near its send time; a copy is ordinary traffic.
        const c = canaryOf(pk, opts.canarySecret);
        if (c && Math.abs(packetMs - c.sentAtMs) <= CANARY_TOLERANCE_MS && !acceptedCanaries.has(`${c.host} ${c.seq}`)) {
          acceptedCanaries.add(`${c.host} ${c.seq}`);
          (flow.canaryFrom ??= new Set()).add(from);
          if (c.protocol === 'dns') flow.protocol = 'dns';
          if (!early) seen(flow, from);
          return;
        }
        if (early) {
          // Only canaries are looked at before the window: a flow this packet began is forgotten,
          // so the window's first packet on it (or a canary) says who began it, not a reply.
          if (created) flows.delete(id);
          return;
        }
        // On a canary's flow: the target's answers and the sender's bare TCP segments are Airlock's exchange.
        if (flow.canaryFrom && (!flow.canaryFrom.has(from) || (pk.proto === TCP && pk.payload.length === 0))) {
          seen(flow, from);
          return;
        }
      }
      let isFinding = flow.leaves[from];
      const data = pk.payload;
      const fromInitiator = from === flow.initiatorEnd;
      if (data.length > 0 && !nonFirst) {
        if (pk.proto === UDP) {
          if (DNS_PORTS.includes(pk.sport) || DNS_PORTS.includes(pk.dport)) {
            if (dnsMessage(flow, from, data)) isFinding = true;
          } else if (fromInitiator && flow.searched < NAME_SEARCH_PACKETS && !flow.named && isQuicInitial(data, 0, data.length)) {
            flow.protocol = 'quic';
            flow.searched++;
            flow.quic ??= new QuicCryptoAssembler();
            const sni = flow.quic.addDatagram(data, 0, data.length);
            if (sni !== undefined) {
              flow.quic = undefined;
              if (sni !== null) addName(flow, sni, 'quic');
              else flow.searched = NAME_SEARCH_PACKETS;
            }
          }
        } else if (pk.proto === TCP) {
          if (pk.sport === 53 || pk.dport === 53) {
            // DNS over TCP: each message after its 2-byte length. The incomplete message a segment
            // ends with is read as far as it goes, and again whole with the next segment that continues it.
            let stream = data;
            const kept = flow.dnsTcpTail?.[from];
            if (flow.dnsTcpTail) flow.dnsTcpTail[from] = undefined;
            if (kept && kept.nextSeq === pk.tcpSeq) stream = Buffer.concat([kept.bytes, data]);
            let o = 0;
            while (o < stream.length) {
              const whole = stream.length - o >= 2 && o + 2 + u16(stream, o) <= stream.length;
              if (stream.length - o > 14 && dnsMessage(flow, from, stream.subarray(o + 2, o + 2 + u16(stream, o)))) isFinding = true;
              if (!whole) {
                flow.dnsTcpTail ??= [undefined, undefined];
                flow.dnsTcpTail[from] = { bytes: Buffer.from(stream.subarray(o)), nextSeq: (pk.tcpSeq + data.length) >>> 0 };
                break;
              }
              o += 2 + u16(stream, o);
            }
          } else if (fromInitiator && ((flow.searched < NAME_SEARCH_PACKETS && !flow.named) || flow.protocol === 'http')) {
            searchTcpName(flow, pk);
          }
        }
      }
      seen(flow, from);
      if (isFinding) finding(flow, from);
    };

    await readCapture(file, (p) => {
      if (RADIO_LINK_TYPES.includes(p.linkType) && opts.onRadio) return; // the radio analysis reads these
      if (p.timeMs >= to) return;
      early = p.timeMs < from;
      if (early && (opts.canarySecret === undefined || p.timeMs < from - CANARY_LOOKBACK_MS)) return;
      packetNo = p.index;
      packetMs = p.timeMs;
      const frame = decodeFrame(p);
      if (early) {
        for (const pk of frame.packets) judge(pk, frame.mac);
        return;
      }
      for (const u of frame.unjudged) {
        const type = describeUnjudged(u.kind, u.value);
        const k = unknown.get(type);
        if (k) k.count++;
        else unknown.set(type, { count: 1, packet: p.index });
      }
      for (const pk of frame.packets) judge(pk, frame.mac);
    }).then((info) => {
      if (info.damage || info.ifDrops) damaged = true;
    });

    for (const [type, k] of unknown) unjudged.push({ file: label, type, count: k.count, packet: k.packet });

    // Each flow with at least one finding packet is one finding.
    for (const flow of flows.values()) {
      if (flow.findingPackets === 0) continue;
      const ff = flow.firstFinding!;
      const leaves = flow.leaves[0] || flow.leaves[1];
      const sender = flow.ends[ff.from];
      const receiver = flow.ends[ff.from === 0 ? 1 : 0];
      const hasPorts = flow.proto === TCP || flow.proto === UDP;
      const f: ReferenceFinding = {
        file: label,
        packet: ff.packet,
        lastPacket: flow.lastFinding,
        count: flow.findingPackets,
        time: new Date(ff.ms).toISOString(),
        src: sender.address,
        dst: receiver.address,
        protocol: flow.protocol ?? protoName(flow.proto),
        reason: flow.replies === 0 ? 'attempt' : leaves ? 'egress' : 'dns-name',
      };
      if (hasPorts) {
        f.srcPort = sender.port;
        f.dstPort = receiver.port;
      }
      const name = leaves ? flow.firstName : (flow.firstBadName ?? flow.firstName);
      if (name !== undefined) f.name = name;
      // An outside flow carried every name out; a lab DNS flow, the names a resolver would carry out.
      const names = [...flow.dnsNames.values(), ...flow.appNames].filter((n) => leaves || n.bad).sort((x, y) => x.packet - y.packet);
      if (names.length > 0) f.names = names.map((n) => ({ name: n.name, packet: n.packet, time: new Date(n.ms).toISOString(), protocol: n.protocol }));
      if (flow.mac !== undefined && ff.from === flow.initiatorEnd) f.srcMac = flow.mac;
      findings.push(f);
    }
  }
  const verdict: Verdict = findings.length > 0 ? 'FAIL' : damaged || unjudged.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  return { verdict, findings, unjudged };
}
