/**
 * The egress scan: decode every packet of every capture (link layer -> IP -> transport ->
 * names), keep one flow per conversation in typed arrays, judge each packet with the
 * EgressPolicy, and turn flows into findings that name their evidence.
 *
 * Hand-written hot path (see capture-reader.ts): one decoder object, numbers not strings,
 * strings only when a flow meets a name it has not reported yet.
 */
import path from 'node:path';
import { readCapture, type CaptureInfo, type CapturePacket } from './capture-reader.js';
import { FlowTable, R, D, C, CD, Layout } from './flow-table.js';
import { EgressPolicy } from './egress-policy.js';
import { formatIPv4, formatIPv6 } from './address.js';
import {
  dnsQuestionIs,
  dnsNextQuestion,
  dnsQuestionName,
  dnsQuestionNameInterned,
  httpHosts,
  isQuicInitial,
  looksLikeHttpRequest,
  tlsClientHelloRecordLength,
  tlsServerName,
} from './app-names.js';
import { CaptureLossMeter, LossBit, LossWord, type CaptureLossCounts } from './capture-loss.js';
import { CANARY_DNS_SUFFIX, CANARY_MAGIC, CANARY_PORT, CANARY_TOLERANCE_MS, decodeCanary, decodeDnsCanary, type Canary, type CanaryBinding } from './canary.js';
import { loadCatalogue, type EndpointCatalogue, type EndpointMatch } from './catalogue.js';
import type { FoundName, NetworkFinding, Verdict } from './finding.js';
import { CISCO_SNAP_CONTROL, LINK_CONTROL_ETHERTYPES, PPP_CONTROL_PROTOCOLS, Unjudged, describeUnjudged, isLlcControl } from './frame-types.js';
import { QuicCryptoAssembler } from './quic-initial.js';
import { releaseBuffers } from './release.js';

/**
 * Bump when a verdict re-derived from the same run directory could differ: what counts as a
 * finding, how findings are grouped, or when a window is judged blind or incomplete. `verify`
 * reports a disagreement under the same version as tampering (src/evidence/verify.ts), so a
 * rule change without a bump would make honest older runs fail verification. Version 3: proof
 * of sight on every rig (docs/technician/proof-of-sight.md).
 */
export const ANALYZER_VERSION = '3';

export interface ScanOptions {
  /** CIDRs inside the lab. */
  lab: string[];
  /** DNS names allowed besides *.local (a name and everything below it). */
  labNames?: string[];
  /** Recognise canaries marked under this secret. */
  canarySecret?: string;
  /** Only packets with fromMs <= t < toMs (epoch ms) are judged. */
  fromMs?: number;
  toMs?: number;
  /** Default: the shipped catalogue. */
  catalogue?: EndpointCatalogue;
  /** Findings' `file` is made relative to this (the run directory). */
  baseDir?: string;
  /**
   * Called for every radio frame (802.11: link types 105, 127; Bluetooth LE: 251, 256, 272);
   * the view is valid only during the call. Without it, radio frames are not judged (INCONCLUSIVE).
   */
  onRadio?: (p: CapturePacket, file: string) => void;
  /** Called for every canary accepted in a window (not its look-back): the live canary health (src/verdict/canary-health.ts). */
  onCanary?: (c: SeenCanary) => void;
}

export interface FlowSummary {
  file: string;
  /** Initiator (source of the flow's first packet) and responder. */
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  protocol: string;
  name?: string;
  packet: number;
  lastPacket: number;
  count: number;
  firstMs: number;
  lastMs: number;
  /** False when any packet of the flow is a finding. */
  inLab: boolean;
  /** Source MAC of the flow's first packet (outermost Ethernet or Linux cooked header), when known. */
  srcMac?: string;
  /** Packets the responder sent. */
  replies: number;
  /** Process or app named by the capture's per-packet header (PKTAP, PCAPdroid), where it has one. */
  process?: string;
  /** The flow carried an accepted canary (Airlock's own packet; its other packets are judged as usual). */
  canary?: boolean;
  /** On a canary's flow: none of its packets was judged as the devices' (only canaries and the answers to them). */
  canaryOnly?: boolean;
}

export interface DnsQuery {
  file: string;
  packet: number;
  time: string;
  name: string;
  src: string;
  dst: string;
  answered: boolean;
  /** Queries for this name in this flow. */
  count: number;
}

export type SeenCanary = Canary & { file: string; packet: number; timeMs: number };

/** What NetworkScanner.seal keeps of a file besides its findings (undefined: nothing). */
export interface SealKeep {
  dns?: (q: DnsQuery) => boolean;
  flows?: (f: FlowSummary) => boolean;
  identities: boolean;
}

/** What a sealed file (NetworkScanner.seal) leaves for the rules. */
interface SealedFile {
  findings: NetworkFinding[];
  dnsQueries: DnsQuery[];
  flows: FlowSummary[];
}

export interface CaptureDamage {
  file: string;
  offset: number;
  reason: string;
  /** The file is whole, but holds frames of a type not decoded (frame-types.ts): not damage, still not judged. */
  unjudged?: boolean;
}

export interface FileSummary {
  file: string;
  format: 'pcap' | 'pcapng';
  packets: number;
  firstMs?: number;
  lastMs?: number;
  linkTypes: number[];
  ifDrops?: number;
  /** Frames of the link-local control protocols (ARP, LLDP, LACP, EAPOL, STP...): they stay on the link. */
  linkControl: number;
  /** 802.11 radiotap frames (link type 127). */
  radiotap: number;
  /** Radio frames (802.11 and Bluetooth LE), handed to `onRadio`. */
  radio: number;
  /** Packets whose capture header names the process or app that sent or received them (PKTAP, PCAPdroid trailer). */
  withProcess: number;
  /** Frames of types this analyzer does not decode, by type (not judged: the window is INCONCLUSIVE). */
  unjudged: Array<{ type: string; count: number; packet: number }>;
  /** Frames too short or malformed to read addresses from. */
  malformed: number;
  /** Frames of a decoded link type inside the scan's time window (all of them without one). */
  inWindow: number;
  /** TCP capture loss counts (capture-loss.ts). */
  tcpLoss: CaptureLossCounts;
}

export interface NetworkScan {
  verdict: Verdict;
  analyzerVersion: string;
  findings: NetworkFinding[];
  /** Every flow, lab-internal ones too (built on first access). */
  flows: FlowSummary[];
  flowCount: number;
  dnsQueries: DnsQuery[];
  canaries: SeenCanary[];
  damage: CaptureDamage[];
  files: FileSummary[];
  packets: number;
}

const P_ICMP = 1;
const P_TCP = 6;
const P_UDP = 17;
const P_ICMPV6 = 58;
const P_GRE = 47;
const P_IPV4_IN = 4;
const P_IPV6_IN = 41;
/** Encapsulations opened inside one frame at most (beyond: the frame is not judged, INCONCLUSIVE). */
const MAX_DEPTH = 6;

/** The 48-bit MAC address at `o` as a number (exact in a double). */
function macAt(buf: Buffer, o: number): number {
  return ((buf[o]! << 8) | buf[o + 1]!) * 4294967296 + (((buf[o + 2]! << 24) | (buf[o + 3]! << 16) | (buf[o + 4]! << 8) | buf[o + 5]!) >>> 0);
}

/** True when the IPv6 header at `o` has its source or destination in 2001::/32 (Teredo). */
function isTeredoPrefix(buf: Buffer, o: number): boolean {
  return (buf[o + 8] === 0x20 && buf[o + 9] === 0x01 && buf[o + 10] === 0 && buf[o + 11] === 0) ||
    (buf[o + 24] === 0x20 && buf[o + 25] === 0x01 && buf[o + 26] === 0 && buf[o + 27] === 0);
}

const LABEL_NONE = 0;
const LABEL_DNS = 1;
const LABEL_TLS = 2;
const LABEL_HTTP = 3;
const LABEL_QUIC = 4;
const LABELS = ['', 'dns', 'tls', 'http', 'quic'];

// flow flag bits
const F_EGRESS0 = 1; // packets from end A are findings
const F_EGRESS1 = 2; // packets from end B are findings
const F_DNSNAME = 4; // a DNS query for a name outside the lab
const F_HAS_EGRESS = 8;
const F_CONFINED0 = 16; // packets from A go to a link-confined destination
const F_CONFINED1 = 32;
const F_LAST_Q_BAD = 64;
const F_PENDING_HELLO = 128; // a partial ClientHello of this flow waits in pendingHello
const F_NAMED = 256; // names[flow] is set (read from the record's hot line, not the big array)
const F_CANARY0 = 512; // end A sent an accepted canary on this flow
const F_CANARY1 = 1024;
/**
 * The flow was created by a packet of the look-back before the window that is no canary (only
 * canaries are looked at there): its initiator and first source MAC are not known yet, and the
 * first packet the window judges, or an accepted canary, sets them as if it had created the flow.
 * (A reply first seen in the look-back, its query just before it, must not make the sinkhole's
 * address the flow's source.)
 */
const F_PROVISIONAL = 2048;
const F_JUDGED = 4096; // a packet of the flow was judged as the devices' traffic
/** Bits 16-21: the capture-loss meter's state of this flow, kept in the hot line the packet already read. */
const LOSS_SHIFT = 16;
const F_LOSS = LossBit.ALL << LOSS_SHIFT;

/** How long before a window canaries are still looked at (their answers may fall inside it). */
export const CANARY_LOOKBACK_MS = 5000;

/** At most this many payload packets of a flow are searched for a TLS/HTTP name. */
const NAME_SEARCH_PACKETS = 6;
/** Bound of a buffered ClientHello spanning segments (one TLS record at most). */
const MAX_HELLO = 16384 + 5;
/** Bound on flows holding a partial ClientHello at once. */
const MAX_PENDING_HELLOS = 4096;

interface PendingHello {
  buf: Buffer;
  len: number;
  need: number;
  nextSeq: number;
}

interface DnsRecord {
  packet: number;
  ms: number;
  name: string;
  /** Record base of the flow in the flow table. */
  flow: number;
  dir: number;
  answered: boolean;
  count: number;
  /** The name must not leave: neither allowed nor asked on a link-confined destination. */
  bad: boolean;
}

/** A TLS, HTTP or QUIC name a flow carried, with the packet that first carried it. */
interface NameRecord {
  flow: number;
  name: string;
  packet: number;
  ms: number;
  label: number;
}

/** A NUL-terminated string of at most `max` bytes. */
function cString(buf: Buffer, at: number, max: number): string {
  let e = at;
  while (e < at + max && e < buf.length && buf[e] !== 0) e++;
  return buf.toString('utf8', at, e);
}

let isoSecond = NaN;
let isoPrefix = '';
/**
 * `new Date(ms).toISOString()`, with the text up to the second reused from the previous call:
 * tens of thousands of findings and DNS queries share a few distinct seconds.
 */
export function isoTime(ms: number): string {
  const t = Math.trunc(ms);
  if (!(t >= 0 && t < 253402300800000)) return new Date(ms).toISOString(); // before 1970 or past 9999
  const msPart = t % 1000;
  const sec = t - msPart;
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec).toISOString().slice(0, 20);
  }
  return isoPrefix + (msPart < 10 ? '00' : msPart < 100 ? '0' : '') + msPart + 'Z';
}

/** The names of a finding for its summary: all of them up to five, then a count of the rest. */
function namesText(names: FoundName[] | undefined, first: string | undefined): string {
  if (!names || names.length === 0) return first ?? '';
  const shown = names.slice(0, 5).map((n) => n.name).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more names` : shown;
}

/** Per-file state and the decoder; one instance scans one file. */
class FileScanner {
  readonly t = new FlowTable();
  /** Name per flow id (DNS query, TLS server name, HTTP host), and the first DNS name that must not leave. */
  private names: (string | undefined)[] = [];
  /** The first DNS name that must not leave, by flow id (only flows that asked for one). */
  private badNames = new Map<number, string>();

  private readonly dns: DnsRecord[] = [];
  /** DNS record index by `flowId name`. */
  private readonly dnsByFlow = new Map<string, number>();
  private readonly pendingHello = new Map<number, PendingHello>();
  /** DNS over TCP: the incomplete message a segment ended with, by flow and direction (dnsOverTcp()). */
  private readonly dnsTcp = new Map<number, { bytes: Buffer; nextSeq: number; read: number }>();
  /** How many questions the last dnsMessage() read. */
  private dnsRead = 0;
  private readonly fragments = new Map<string, number>();
  readonly canaries: SeenCanary[] = [];
  /** policy.nameAllowed() per name (bounded): most flows ask for names asked before. */
  private readonly allowedNames = new Map<string, boolean>();
  /** Record bases of flows holding a finding, in the order they got their first one. */
  private flagged: number[] = [];
  /** Flows that carried at least one judged packet. */
  private counted = 0;

  /** Frames of the link-local control protocols (frame-types.ts): they stay on the link. */
  linkControl = 0;
  radiotap = 0;
  radio = 0;
  withProcess = 0;
  /** Process name per flow id (phone-side captures whose headers name the process). */
  private procs: (string | undefined)[] = [];
  /** Where the current packet's process information is: -1 none; else its offset in the buffer. */
  private procAt = -1;
  /** 1: PKTAP header at procAt; 2: PCAPdroid trailer at procAt. */
  private procKind = 0;
  /** Frames of types not decoded, by kind * 2^40 + value: each makes the window INCONCLUSIVE. */
  readonly unknown = new Map<number, { kind: number; value: number; count: number; packet: number; offset: number }>();
  malformed = 0;
  /** Byte offset of the current packet's record, and the source MAC of its outermost frame (0: none). */
  private fileOffset = 0;
  /** Where the current frame's source MAC is (macAt -1: none); read only when a flow is created. */
  private macBuf: Buffer = Buffer.alloc(0);
  private macAt = -1;
  /** Names read from TLS, HTTP and QUIC, each once per flow (DNS names live in `dns`). */
  private readonly appNames: NameRecord[] = [];
  private readonly appNameSeen = new Set<string>();
  /** QUIC ClientHello bytes being gathered per flow (CRYPTO frames of Initial packets). */
  private readonly quicHellos = new Map<number, QuicCryptoAssembler>();
  inWindow = 0;
  /** TCP capture loss of this file in the window (capture-loss.ts). */
  readonly loss = new CaptureLossMeter();
  /** The current packet is before the window: looked at only for canaries. */
  private early = false;

  /** Time and frame number of the packet being judged (fields, so doubles are not boxed per call). */
  private ms = 0;
  private index = 0;
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly secret: string | undefined;
  private readonly onRadio: ScanOptions['onRadio'];
  private readonly onCanary: ScanOptions['onCanary'];
  readonly callback: (p: CapturePacket) => void;
  /** The current packet is the end of the capture's previous part, looked at only for canaries. */
  private lookbackOnly = false;
  /**
   * Packets of the previous part of a rotated capture (its last seconds): looked at only for
   * canaries, as the look-back before a window is, so an answer in this part to a canary sent at
   * the end of the previous one is known as an answer to Airlock's own packet.
   */
  readonly lookback: (p: CapturePacket) => void;

  constructor(
    private readonly policy: EgressPolicy,
    opts: ScanOptions,
    private readonly fileLabel: string,
  ) {
    this.fromMs = opts.fromMs ?? -Infinity;
    this.toMs = opts.toMs ?? Infinity;
    this.secret = opts.canarySecret;
    this.onRadio = opts.onRadio;
    this.onCanary = opts.onCanary;
    this.callback = (p) => this.onPacket(p);
    this.lookback = (p) => {
      this.lookbackOnly = true;
      try {
        this.onPacket(p);
      } finally {
        this.lookbackOnly = false;
      }
    };
  }

  private onPacket(p: CapturePacket): void {
    const buf = p.buf;
    let off = p.offset;
    const end = off + p.caplen;
    let lt = p.linkType;
    if (lt === 105 || lt === 127 || lt === 251 || lt === 256 || lt === 272) {
      // Radio frames: decoded by src/analysis/radio (Remote ID, probe requests, transmitters).
      if (lt === 127) this.radiotap++;
      if (this.onRadio) {
        this.radio++;
        this.onRadio(p, this.fileLabel);
        return;
      }
    }
    const ms = p.timeMs;
    if (ms >= this.toMs) return;
    // Canaries sent shortly before the window are looked at too (and only they), so the
    // answers to them that arrive inside it are known as answers to Airlock's own packets.
    const early = this.lookbackOnly || ms < this.fromMs;
    if (early && (this.secret === undefined || ms < this.fromMs - CANARY_LOOKBACK_MS)) return;
    this.early = early;
    if (!early) this.inWindow++;
    this.ms = ms;
    this.index = p.index;
    this.fileOffset = p.fileOffset;
    this.macAt = -1;
    this.procAt = -1;
    if (lt === 149 || lt === 258) {
      // Apple PKTAP (libpcap's pktap header, little-endian): header length, record type, the
      // inner link type, interface name[24], flags, family, ..., pid at 52, process name at 56.
      if (end - off < 12) {
        this.malformed++;
        return;
      }
      const hlen = buf.readUInt32LE(off);
      if (hlen < 12 || hlen > end - off) {
        this.malformed++;
        return;
      }
      if (buf.readUInt32LE(off + 4) !== 1) return; // record type 0: no packet follows the header
      lt = buf.readUInt32LE(off + 8);
      if (hlen >= 76) {
        this.procAt = off;
        this.procKind = 1;
      }
      off += hlen;
      if (lt === 105 || lt === 127 || lt === 149 || lt === 251 || lt === 256 || lt === 258 || lt === 272) {
        this.unjudged(Unjudged.LINK_TYPE, lt); // radio or nested PKTAP inside PKTAP: not decoded
        return;
      }
    }
    switch (lt) {
      case 1: // Ethernet
        // PCAPdroid's trailer (magic 0x01072021, uid, app name[20], CRC-32) closes the frame.
        if (end - off >= 14 + 32 && buf[end - 32] === 0x01 && buf[end - 31] === 0x07 && buf[end - 30] === 0x20 && buf[end - 29] === 0x21) {
          this.procAt = end - 32;
          this.procKind = 2;
        }
        // The plain untagged IP frame, nearly every frame, goes straight to ip().
        if (end - off >= 14) {
          const et = (buf[off + 12]! << 8) | buf[off + 13]!;
          if (et === 0x0800 || et === 0x86dd) {
            this.macBuf = buf;
            this.macAt = off + 6;
            this.ip(et, buf, off + 14, end, 0);
            return;
          }
        }
        this.ether(buf, off, end, 0);
        return;
      case 113: // Linux cooked v1: the sender's link address at 6..13 (length at 4..5), protocol at 14
        if (end - off < 16) {
          this.malformed++;
          return;
        }
        if (buf[off + 4] === 0 && buf[off + 5] === 6) {
          this.macBuf = buf;
          this.macAt = off + 6;
        }
        this.sllPayload((buf[off + 14]! << 8) | buf[off + 15]!, buf, off + 16, end);
        return;
      case 276: // Linux cooked v2: protocol at 0, link address length at 11, address at 12
        if (end - off < 20) {
          this.malformed++;
          return;
        }
        if (buf[off + 11] === 6) {
          this.macBuf = buf;
          this.macAt = off + 12;
        }
        this.sllPayload((buf[off]! << 8) | buf[off + 1]!, buf, off + 20, end);
        return;
      case 101:
      case 12:
      case 14: // raw IP: the version nibble decides
        if (end - off < 1) {
          this.malformed++;
          return;
        }
        if (buf[off]! >> 4 === 4) this.ip(0x0800, buf, off, end, 0);
        else if (buf[off]! >> 4 === 6) this.ip(0x86dd, buf, off, end, 0);
        else this.malformed++;
        return;
      case 228:
        this.ip(0x0800, buf, off, end, 0);
        return;
      case 229:
        this.ip(0x86dd, buf, off, end, 0);
        return;
      case 0:
      case 108: {
        // BSD loopback: a 4-byte address family, host order (0) or network order (108)
        if (end - off < 4) {
          this.malformed++;
          return;
        }
        const fam = buf[off]! !== 0 ? buf[off]! : buf[off + 3]!;
        if (fam === 2) this.ip(0x0800, buf, off + 4, end, 0);
        else if (fam === 24 || fam === 28 || fam === 30) this.ip(0x86dd, buf, off + 4, end, 0);
        else this.unjudged(Unjudged.LINK_TYPE, 1000 + fam);
        return;
      }
      default:
        this.unjudged(Unjudged.LINK_TYPE, lt);
    }
  }

  /** Linux cooked capture protocol field: an ethertype, or 4 for 802.2 LLC frames. */
  private sllPayload(proto: number, buf: Buffer, off: number, end: number): void {
    if (proto === 4) this.llc(buf, off, end, 0);
    else this.etherPayload(proto, buf, off, end, 0);
  }

  /** An Ethernet frame (802.3 with LLC when the type field is a length), with 802.1Q / QinQ tags. */
  private ether(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off < 14) {
      this.malformed++;
      return;
    }
    if (depth === 0) {
      this.macBuf = buf;
      this.macAt = off + 6;
    }
    let et = (buf[off + 12]! << 8) | buf[off + 13]!;
    off += 14;
    while (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      if (end - off < 4) {
        this.malformed++;
        return;
      }
      et = (buf[off + 2]! << 8) | buf[off + 3]!;
      off += 4;
    }
    if (et <= 1500) this.llc(buf, off, off + et < end ? off + et : end, depth);
    else this.etherPayload(et, buf, off, end, depth);
  }

  private etherPayload(et: number, buf: Buffer, off: number, end: number, depth: number): void {
    if (et === 0x0800 || et === 0x86dd) this.ip(et, buf, off, end, depth);
    else if (et === 0x8864) this.pppoe(buf, off, end, depth);
    else if (et === 0x8847 || et === 0x8848) this.mpls(buf, off, end, depth);
    else if (LINK_CONTROL_ETHERTYPES.has(et)) this.linkControl++;
    else this.unjudged(Unjudged.ETHERTYPE, et);
  }

  /** 802.2 LLC: SNAP carries an ethertype; spanning tree, XID and TEST are link control. */
  private llc(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off < 3) {
      this.malformed++;
      return;
    }
    const dsap = buf[off]!;
    const ssap = buf[off + 1]!;
    if (dsap === 0xaa && ssap === 0xaa && buf[off + 2] === 0x03) {
      if (end - off < 8) {
        this.malformed++;
        return;
      }
      const oui = (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!;
      const pid = (buf[off + 6]! << 8) | buf[off + 7]!;
      // RFC 1042 (OUI 0) and 802.1H (00-00-F8) carry an ethertype.
      if (oui === 0 || oui === 0xf8) this.etherPayload(pid, buf, off + 8, end, depth);
      else if (oui === 0x00000c && CISCO_SNAP_CONTROL.has(pid)) this.linkControl++;
      else this.unjudged(Unjudged.SNAP, oui * 65536 + pid);
      return;
    }
    if (isLlcControl(dsap, ssap, buf[off + 2]!)) this.linkControl++;
    else this.unjudged(Unjudged.LLC, (dsap << 8) | ssap);
  }

  /** PPPoE session stage (RFC 2516): a 6-byte header, then a PPP frame. */
  private pppoe(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off < 8) {
      this.malformed++;
      return;
    }
    const len = (buf[off + 4]! << 8) | buf[off + 5]!;
    this.ppp(buf, off + 6, off + 6 + len < end ? off + 6 + len : end, depth);
  }

  /** A PPP frame (RFC 1661), with or without address/control bytes and protocol compression. */
  private ppp(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off >= 2 && buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
    if (end - off < 1) {
      this.malformed++;
      return;
    }
    let proto: number;
    if ((buf[off]! & 1) !== 0) proto = buf[off++]!;
    else {
      if (end - off < 2) {
        this.malformed++;
        return;
      }
      proto = (buf[off]! << 8) | buf[off + 1]!;
      off += 2;
    }
    if (proto === 0x0021) this.ip(0x0800, buf, off, end, depth);
    else if (proto === 0x0057) this.ip(0x86dd, buf, off, end, depth);
    else if (proto === 0x0281 || proto === 0x0283) this.mpls(buf, off, end, depth);
    else if (PPP_CONTROL_PROTOCOLS.has(proto)) this.linkControl++;
    else this.unjudged(Unjudged.PPP, proto);
  }

  /** MPLS (RFC 3032): labels to the bottom of the stack, then IPv4, IPv6 or an Ethernet pseudowire. */
  private mpls(buf: Buffer, off: number, end: number, depth: number): void {
    for (;;) {
      if (end - off < 4) {
        this.malformed++;
        return;
      }
      const bottom = buf[off + 2]! & 1;
      off += 4;
      if (bottom) break;
    }
    if (end - off < 1) {
      this.malformed++;
      return;
    }
    const nibble = buf[off]! >> 4;
    if (nibble === 4) this.ip(0x0800, buf, off, end, depth);
    else if (nibble === 6) this.ip(0x86dd, buf, off, end, depth);
    else if (nibble === 0) this.ether(buf, off + 4, end, depth); // RFC 4385 control word, then Ethernet (RFC 4448)
    else this.unjudged(Unjudged.MPLS_PAYLOAD, nibble);
  }

  /** GRE (RFC 2784/2890, PPTP's RFC 2637 version 1), ERSPAN types I, II and III inside it. */
  private gre(buf: Buffer, off: number, end: number, depth: number): void {
    if (end - off < 4) {
      this.malformed++;
      return;
    }
    const flags = (buf[off]! << 8) | buf[off + 1]!;
    const proto = (buf[off + 2]! << 8) | buf[off + 3]!;
    if ((flags & 0x4000) !== 0) {
      this.unjudged(Unjudged.GRE_ROUTING, 0);
      return;
    }
    let o = off + 4;
    if ((flags & 0x8000) !== 0) o += 4; // checksum
    if ((flags & 0x2000) !== 0) o += 4; // key
    const sequenced = (flags & 0x1000) !== 0;
    if (sequenced) o += 4;
    if ((flags & 7) === 1 && (flags & 0x0080) !== 0) o += 4; // PPTP acknowledgement
    if (o > end) {
      this.malformed++;
      return;
    }
    switch (proto) {
      case 0x0800:
      case 0x86dd:
        this.ip(proto, buf, o, end, depth);
        return;
      case 0x6558: // transparent Ethernet bridging
        this.ether(buf, o, end, depth);
        return;
      case 0x88be: // ERSPAN type II (8-byte header, sequence number present) or type I (none)
        this.ether(buf, sequenced ? o + 8 : o, end, depth);
        return;
      case 0x22eb: // ERSPAN type III: 12-byte header, and an 8-byte platform sub-header when O is set
        if (end - o < 12) {
          this.malformed++;
          return;
        }
        this.ether(buf, o + 12 + ((buf[o + 11]! & 1) !== 0 ? 8 : 0), end, depth);
        return;
      case 0x8847:
      case 0x8848:
        this.mpls(buf, o, end, depth);
        return;
      case 0x880b: // PPP (PPTP)
        this.ppp(buf, o, end, depth);
        return;
      default:
        this.unjudged(Unjudged.GRE, proto);
    }
  }

  /** Tunnels carried in UDP: VXLAN (RFC 7348), VXLAN-GPE, Geneve (RFC 8926), Teredo (RFC 4380). */
  private udpTunnel(buf: Buffer, pay: number, end: number, sport: number, dport: number, depth: number): void {
    const len = end - pay;
    if ((dport === 4789 || dport === 8472) && len >= 8 + 14 && (buf[pay]! & 0x08) !== 0) {
      this.ether(buf, pay + 8, end, depth);
    } else if (dport === 4790 && len >= 8 && (buf[pay]! & 0x04) !== 0) {
      const next = buf[pay + 3]!;
      if (next === 1) this.ip(0x0800, buf, pay + 8, end, depth);
      else if (next === 2) this.ip(0x86dd, buf, pay + 8, end, depth);
      else if (next === 3) this.ether(buf, pay + 8, end, depth);
      else if (next === 5) this.mpls(buf, pay + 8, end, depth);
      else this.unjudged(Unjudged.ETHERTYPE, 0x10000 + next);
    } else if (dport === 6081 && len >= 8) {
      const o = pay + 8 + (buf[pay]! & 0x3f) * 4;
      const proto = (buf[pay + 2]! << 8) | buf[pay + 3]!;
      if (o >= end) this.malformed++;
      else if (proto === 0x6558) this.ether(buf, o, end, depth);
      else this.etherPayload(proto, buf, o, end, depth);
    } else if (sport === 3544 || dport === 3544) {
      let o = pay;
      // Authentication and origin indication headers (RFC 4380 section 5.1.1) come before the IPv6 packet.
      if (end - o >= 13 && buf[o] === 0 && buf[o + 1] === 1) o += 4 + buf[o + 2]! + buf[o + 3]! + 9;
      if (end - o >= 8 && buf[o] === 0 && buf[o + 1] === 0) o += 8;
      if (end - o >= 40 && buf[o]! >> 4 === 6) this.ip(0x86dd, buf, o, end, depth);
    } else if (len >= 40 && buf[pay]! >> 4 === 6 && ((buf[pay + 4]! << 8) | buf[pay + 5]!) + 40 === len && isTeredoPrefix(buf, pay)) {
      // Teredo between a client and a relay runs on any port: an IPv6 packet filling the datagram, to or from 2001::/32.
      this.ip(0x86dd, buf, pay, end, depth);
    }
  }

  /** Counts a frame this analyzer cannot judge; the scan names its kind and the window is INCONCLUSIVE. */
  private unjudged(kind: number, value: number): void {
    if (this.early) return;
    const key = kind * 1099511627776 + value;
    const u = this.unknown.get(key);
    if (u) u.count++;
    else this.unknown.set(key, { kind, value, count: 1, packet: this.index, offset: this.fileOffset });
  }

  /** An IPv4 or IPv6 packet: judged, its flow updated, its names read, and any tunnel inside it opened. */
  private ip(et: number, buf: Buffer, off: number, end: number, depth: number): void {
    if (depth > MAX_DEPTH) {
      this.unjudged(Unjudged.NESTING, MAX_DEPTH);
      return;
    }
    let ipEnd = end;
    const t = this.t;
    let proto: number;
    let l4 = 0;
    let nonFirstFragment = false;
    let firstFragmentKey: string | null = null;
    if (et === 0x0800) {
      if (end - off < 20 || buf[off]! >> 4 !== 4) {
        this.malformed++;
        return;
      }
      const ihl = (buf[off]! & 15) * 4;
      const total = (buf[off + 2]! << 8) | buf[off + 3]!;
      if (ihl < 20 || end - off < ihl) {
        this.malformed++;
        return;
      }
      if (total >= ihl && off + total < end) end = off + total;
      ipEnd = off + total;
      proto = buf[off + 9]!;
      t.fam = 4;
      t.s0 = ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) | buf[off + 15]!) >>> 0;
      t.d0 = ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8) | buf[off + 19]!) >>> 0;
      const frag = (buf[off + 6]! << 8) | buf[off + 7]!;
      if ((frag & 0x3fff) !== 0) {
        const key = `4/${t.s0}/${t.d0}/${proto}/${(buf[off + 4]! << 8) | buf[off + 5]!}`;
        if ((frag & 0x1fff) !== 0) {
          nonFirstFragment = true;
          const known = this.fragments.get(key);
          if (known !== undefined) {
            this.account(known, t.s0 === t.u32[known + R.A0] ? 0 : 1);
            return;
          }
        } else firstFragmentKey = key;
      }
      l4 = off + ihl;
    } else if (et === 0x86dd) {
      if (end - off < 40 || buf[off]! >> 4 !== 6) {
        this.malformed++;
        return;
      }
      const plen = (buf[off + 4]! << 8) | buf[off + 5]!;
      if (plen > 0 && off + 40 + plen < end) end = off + 40 + plen;
      ipEnd = plen > 0 ? off + 40 + plen : end;
      t.fam = 6;
      t.s0 = ((buf[off + 8]! << 24) | (buf[off + 9]! << 16) | (buf[off + 10]! << 8) | buf[off + 11]!) >>> 0;
      t.s1 = ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) | buf[off + 15]!) >>> 0;
      t.s2 = ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8) | buf[off + 19]!) >>> 0;
      t.s3 = ((buf[off + 20]! << 24) | (buf[off + 21]! << 16) | (buf[off + 22]! << 8) | buf[off + 23]!) >>> 0;
      t.d0 = ((buf[off + 24]! << 24) | (buf[off + 25]! << 16) | (buf[off + 26]! << 8) | buf[off + 27]!) >>> 0;
      t.d1 = ((buf[off + 28]! << 24) | (buf[off + 29]! << 16) | (buf[off + 30]! << 8) | buf[off + 31]!) >>> 0;
      t.d2 = ((buf[off + 32]! << 24) | (buf[off + 33]! << 16) | (buf[off + 34]! << 8) | buf[off + 35]!) >>> 0;
      t.d3 = ((buf[off + 36]! << 24) | (buf[off + 37]! << 16) | (buf[off + 38]! << 8) | buf[off + 39]!) >>> 0;
      proto = buf[off + 6]!;
      l4 = off + 40;
      // Extension headers: walked out of line (a smaller ip() for TurboFan to compile; few packets carry them).
      if (proto === 0 || proto === 43 || proto === 60 || proto === 135 || proto === 139 || proto === 140 || proto === 51 || proto === 44) {
        l4 = this.v6Extensions(buf, l4, end, proto);
        if (l4 < 0) return; // a later fragment of a known packet, counted to its flow
        proto = this.extProto;
        nonFirstFragment = this.extNonFirst;
        firstFragmentKey = this.extFirstKey;
      }
      if (l4 > end) l4 = end;
    } else return;
    t.proto = proto;
    let sport = 0;
    let dport = 0;
    let pay = end;
    let seq = 0;
    let tcpEnd = 0; // the TCP header's end, as its data offset says (pay, cut at the capture's end)
    if (!nonFirstFragment) {
      if (proto === P_TCP && end - l4 >= 20) {
        sport = (buf[l4]! << 8) | buf[l4 + 1]!;
        dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
        seq = ((buf[l4 + 4]! << 24) | (buf[l4 + 5]! << 16) | (buf[l4 + 6]! << 8) | buf[l4 + 7]!) >>> 0;
        tcpEnd = l4 + (buf[l4 + 12]! >> 4) * 4;
        pay = tcpEnd > end ? end : tcpEnd;
      } else if (proto === P_UDP && end - l4 >= 8) {
        sport = (buf[l4]! << 8) | buf[l4 + 1]!;
        dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
        const ulen = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
        if (ulen >= 8 && l4 + ulen < end) end = l4 + ulen;
        pay = l4 + 8;
        // A query in fragments: its names may lie in a later fragment, which is not read for them.
        if (firstFragmentKey !== null && dport === 53) this.unjudged(Unjudged.DNS_FRAGMENT, 53);
      }
    }
    let r: number;
    if (t.fam === 4) r = t.lookup4(t.s0, t.d0, proto, sport, dport);
    else {
      t.sp = sport;
      t.dp = dport;
      r = t.lookup() | 0; // an int32 like lookup4's, so r is one untagged word below
    }
    const dir = t.dir | 0;
    const u = t.u32;
    if (t.created) this.initFlow(r, dir, proto, sport, dport, this.early);
    else if (!this.early && (u[r + R.FLAGS]! & F_PROVISIONAL) !== 0 && !nonFirstFragment) this.initFlow(r, dir, proto, sport, dport, false);
    if (this.procAt >= 0) this.process(buf, r);
    if (firstFragmentKey !== null) {
      if (this.fragments.size > 65536) this.fragments.clear();
      this.fragments.set(firstFragmentKey, r);
    }
    // The capture-loss meter sees every TCP segment of the window, here, in one place before
    // anything below can return. Its common cases are written out on its words
    // (src/analysis/capture-loss.ts, `CaptureLossMeter.state`), as its packet() takes them: a
    // direction already seen, whose segment is in order with no hole, or beyond the hole-free
    // part (a hole opens or stays open: only the highest end moves), or carries no data; and
    // whose ACK, if any, acknowledges nothing new. Everything else (a direction's first
    // segment, data in order while a hole is open, an ACK event, a gap) goes to the meter
    // itself, from the state as it was (the ACK is looked at before the data moves anything).
    // As a call (ip() has no inlining budget left for it), the meter took about 300 instructions
    // a segment on the bench's capture (its arguments tagged and checked, its object and arrays
    // checked again); written here, about half that (docs/performance.md, "Hot path won back").
    // test/analysis/capture-loss-model.test.ts holds both paths to a plain model of the rules.
    if (proto === P_TCP && !nonFirstFragment && !this.early && end - l4 >= 20) {
      const bits = (u[r + R.FLAGS]! >>> LOSS_SHIFT) & LossBit.ALL;
      const flags = buf[l4 + 13]!;
      const d = dir ^ 1;
      const ls = this.loss.state;
      const o = r >>> 1; // the flow's words: flow id * LossWord.WORDS, with Layout.STRIDE = 2 * LossWord.WORDS
      if (
        (bits & (LossBit.SEEN0 << dir)) === 0 ||
        ((flags & 0x10) !== 0 &&
          (bits & (LossBit.SEEN0 << d)) !== 0 &&
          ((bits & (LossBit.ACKED0 << d)) === 0 || ((((buf[l4 + 8]! << 24) | (buf[l4 + 9]! << 16) | (buf[l4 + 10]! << 8) | buf[l4 + 11]!) - ls[o + LossWord.ACK0 + d]!) | 0) > 0))
      ) {
        this.lossPacket(buf, l4, ipEnd, r, dir);
      } else {
        const len = ipEnd - tcpEnd;
        const si = seq | 0;
        const e = (si + (len > 0 ? len : 0) + ((flags >> 1) & 1) + (flags & 1)) | 0;
        if (e !== si) {
          const n = o + dir; // LossWord.NEXT0 is 0
          const h = n + LossWord.HI0;
          const hb = LossBit.HOLE_OPEN0 << dir;
          const next = ls[n]!;
          if (((si - next) | 0) > 0) {
            // Beyond the hole-free part: a hole opens (or was open); only the highest end can move.
            if ((bits & hb) === 0) {
              u[r + R.FLAGS] = u[r + R.FLAGS]! | (hb << LOSS_SHIFT);
              ls[n + LossWord.HOLE0] = si;
            }
            if (((e - ls[h]!) | 0) > 0) ls[h] = e;
          } else if ((bits & hb) === 0 && next === ls[h]) {
            // In order, no hole: both ends move to the segment's end.
            if (((e - next) | 0) > 0) ls[n] = ls[h] = e;
          } else this.lossPacket(buf, l4, ipEnd, r, dir);
        }
      }
    }
    // Canaries (canary.ts): never findings when they carry a valid mark under this run's secret
    // for these addresses and ports, sent within the tolerance, and seen for the first time here.
    if (this.secret !== undefined && !nonFirstFragment) {
      if (this.canaryPacket(buf, proto, l4, pay, end, sport, dport, r, dir, this.early) || this.early) {
        return;
      }
      const cf = u[r + R.FLAGS]! & (F_CANARY0 | F_CANARY1);
      // On a canary's flow, what the target sends back and the sender's bare TCP segments (the
      // kernel's RST to a SYN-ACK for a SYN it did not send itself) are Airlock's exchange, not
      // the device's; anything else the sender puts on that flow is judged as usual.
      if (cf !== 0 && ((cf & (dir === 0 ? F_CANARY0 : F_CANARY1)) === 0 || (proto === P_TCP && pay >= end))) {
        this.touch(r, dir);
        return;
      }
    }
    let finding = (u[r + R.FLAGS]! & (dir === 0 ? F_EGRESS0 : F_EGRESS1)) !== 0;
    const payLen = end - pay;
    if (payLen > 0 && !nonFirstFragment) {
      if (proto === P_UDP) {
        if (sport === 53 || dport === 53 || sport === 5353 || dport === 5353 || sport === 5355 || dport === 5355) {
          if (this.dnsMessage(buf, pay, end, r, dir)) finding = true;
        } else if (dir === u[r + R.INIT_DIR] && u[r + R.SEARCHED]! < NAME_SEARCH_PACKETS && (u[r + R.FLAGS]! & F_NAMED) === 0 && isQuicInitial(buf, pay, payLen)) {
          u[r + R.LABEL] = LABEL_QUIC;
          this.quicName(buf, pay, payLen, r);
        }
      } else if (proto === P_TCP) {
        if (sport === 53 || dport === 53) {
          if (this.dnsOverTcp(buf, pay, end, r, dir, seq)) finding = true;
        } else if (
          dir === u[r + R.INIT_DIR] &&
          ((u[r + R.SEARCHED]! < NAME_SEARCH_PACKETS && (u[r + R.FLAGS]! & F_NAMED) === 0) || u[r + R.LABEL] === LABEL_HTTP)
        ) {
          this.searchName(buf, pay, payLen, r, seq);
        }
      }
    }
    this.touch(r, dir);
    u[r + R.FLAGS] = u[r + R.FLAGS]! | F_JUDGED;
    if (finding) this.mark(r, dir);
    // Tunnels: the outer packet is judged above; what it carries is judged on its own addresses.
    if (!nonFirstFragment) {
      if (proto === P_GRE) this.gre(buf, l4, end, depth + 1);
      else if (proto === P_IPV6_IN) this.ip(0x86dd, buf, l4, end, depth + 1);
      else if (proto === P_IPV4_IN) this.ip(0x0800, buf, l4, end, depth + 1);
      else if (proto === P_UDP && payLen >= 8) this.udpTunnel(buf, pay, end, sport, dport, depth + 1);
    }
  }

  /** What v6Extensions() found: the protocol after the headers, and the fragment it is part of. */
  private extProto = 0;
  private extNonFirst = false;
  private extFirstKey: string | null = null;

  /**
   * IPv6 extension headers from `l4` (the first one's type `proto`), for ip(): returns where the
   * upper layer starts (-1 for a later fragment of a packet whose first fragment was seen, now
   * counted to its flow) and sets extProto, extNonFirst and extFirstKey.
   */
  private v6Extensions(buf: Buffer, l4: number, end: number, proto: number): number {
    const t = this.t;
    let nonFirstFragment = false;
    let firstFragmentKey: string | null = null;
    for (let hops = 0; hops < 8; hops++) {
      if (proto === 0 || proto === 43 || proto === 60 || proto === 135 || proto === 139 || proto === 140) {
        if (end - l4 < 8) break;
        proto = buf[l4]!;
        l4 += (buf[l4 + 1]! + 1) * 8;
      } else if (proto === 51) {
        if (end - l4 < 8) break;
        proto = buf[l4]!;
        l4 += (buf[l4 + 1]! + 2) * 4;
      } else if (proto === 44) {
        if (end - l4 < 8) break;
        const fo = ((buf[l4 + 2]! << 8) | buf[l4 + 3]!) >> 3;
        const more = buf[l4 + 3]! & 1;
        const id = ((buf[l4 + 4]! << 24) | (buf[l4 + 5]! << 16) | (buf[l4 + 6]! << 8) | buf[l4 + 7]!) >>> 0;
        proto = buf[l4]!;
        l4 += 8;
        if (fo !== 0 || more) {
          const key = `6/${t.s0}/${t.s1}/${t.s2}/${t.s3}/${t.d0}/${t.d1}/${t.d2}/${t.d3}/${id}`;
          if (fo !== 0) {
            nonFirstFragment = true;
            const known = this.fragments.get(key);
            if (known !== undefined) {
              const c = t.c32;
              const k = known + C.A123;
              this.account(known, t.s0 === t.u32[known + R.A0] && t.s1 === c[k] && t.s2 === c[k + 1] && t.s3 === c[k + 2] ? 0 : 1);
              return -1;
            }
          } else firstFragmentKey = key;
        }
      } else break;
    }
    // Still inside the extension headers: what the packet carries was not reached, so not judged.
    if (!nonFirstFragment && (proto === 0 || proto === 43 || proto === 60 || proto === 135 || proto === 139 || proto === 140 || proto === 51 || proto === 44)) {
      this.unjudged(Unjudged.IPV6_EXTENSIONS, proto);
    }
    this.extProto = proto;
    this.extNonFirst = nonFirstFragment;
    this.extFirstKey = firstFragmentKey;
    return l4;
  }

  /** The TCP segment at `l4` (its length from the IP header, so a capture cut short by its snaplen still says it) to the capture-loss meter. */
  private lossPacket(buf: Buffer, l4: number, ipEnd: number, r: number, dir: number): void {
    const u = this.t.u32;
    const fl = u[r + R.FLAGS]!;
    const bits = this.loss.packet(buf, l4, Math.max(0, ipEnd - (l4 + (buf[l4 + 12]! >> 4) * 4)), (r / Layout.STRIDE) | 0, dir, (fl & F_LOSS) >>> LOSS_SHIFT);
    u[r + R.FLAGS] = (fl & ~F_LOSS) | (bits << LOSS_SHIFT);
  }

  /** Canaries accepted in this file, by `host seq` (each is accepted once). */
  private readonly canaryKeys = new Set<string>();

  /**
   * True when the packet is a canary accepted now. Cheap tests first: the canary port and the
   * first payload byte (UDP, TCP SYN), an echo request with a payload (ICMP), a first label of
   * 32 characters (DNS); only then text and HMAC.
   */
  private canaryPacket(buf: Buffer, proto: number, l4: number, pay: number, end: number, sport: number, dport: number, r: number, dir: number, early: boolean): boolean {
    let c: Canary | null = null;
    if (proto === P_UDP || proto === P_TCP) {
      if (dport === CANARY_PORT) {
        if (end - pay <= CANARY_MAGIC.length || buf[pay] !== 0x41) return false;
        if (proto === P_TCP && (buf[l4 + 13]! & 0x12) !== 0x02) return false; // a SYN, not a SYN-ACK
        c = decodeCanary(this.secret!, buf.subarray(pay, end), this.binding(sport, dport));
        if (c && c.protocol !== (proto === P_UDP ? 'udp' : 'tcp')) c = null;
      } else if (dport === 53 && proto === P_UDP) {
        if (end - pay < 12 + 33 + CANARY_DNS_SUFFIX.length || buf[pay + 12] !== 32 || (buf[pay + 2]! & 0x80) !== 0) return false;
        const name = dnsQuestionNameInterned(buf, pay, end);
        if (name !== null) c = decodeDnsCanary(this.secret!, name, this.binding(sport, dport));
      } else return false;
    } else if (proto === P_ICMP || proto === P_ICMPV6) {
      if (end - l4 <= 8 + CANARY_MAGIC.length || buf[l4] !== (proto === P_ICMP ? 8 : 128) || buf[l4 + 8] !== 0x41) return false;
      const id = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
      const seq = (buf[l4 + 6]! << 8) | buf[l4 + 7]!;
      c = decodeCanary(this.secret!, buf.subarray(l4 + 8, end), this.binding(id, seq));
      if (c && c.protocol !== 'icmp') c = null;
    } else return false;
    if (c === null) return false;
    // A late or early copy, or one seen before in this capture, is the firmware's own traffic.
    if (Math.abs(this.ms - c.sentAtMs) > CANARY_TOLERANCE_MS) return false;
    const key = `${c.host} ${c.seq}`;
    if (this.canaryKeys.has(key)) return false;
    this.canaryKeys.add(key);
    const u = this.t.u32;
    if ((u[r + R.FLAGS]! & F_PROVISIONAL) !== 0) this.initFlow(r, dir, proto, sport, dport, false);
    u[r + R.FLAGS] = u[r + R.FLAGS]! | (dir === 0 ? F_CANARY0 : F_CANARY1);
    if (c.protocol === 'dns') u[r + R.LABEL] = LABEL_DNS;
    if (early) return true;
    const seen = { ...c, file: this.fileLabel, packet: this.index, timeMs: this.ms };
    this.canaries.push(seen);
    this.onCanary?.(seen);
    this.touch(r, dir);
    return true;
  }

  /** The current packet's addresses and the given ports, as a canary's HMAC binds them. */
  private binding(srcPort: number, dstPort: number): CanaryBinding {
    const t = this.t;
    if (t.fam === 4) return { src: formatIPv4(t.s0), dst: formatIPv4(t.d0), srcPort, dstPort };
    return { src: formatIPv6(t.s0, t.s1, t.s2, t.s3), dst: formatIPv6(t.d0, t.d1, t.d2, t.d3), srcPort, dstPort };
  }

  /** Counts the current packet as a finding of flow `r`. */
  private mark(r: number, dir: number): void {
    const u = this.t.u32;
    if (u[r + R.F_COUNT] === 0) {
      this.flagged.push(r);
      const c = this.t.c32;
      c[r + C.F_FIRST] = this.index;
      this.t.c64[(r >>> 1) + CD.F_FIRST_MS] = this.ms;
      c[r + C.F_DIR] = dir;
    }
    this.t.c32[r + C.F_LAST] = this.index;
    u[r + R.F_COUNT]++;
  }

  /** Attributes a non-first fragment to its first fragment's flow. */
  private account(r: number, dir: number): void {
    this.touch(r, dir);
    if (this.t.u32[r + R.FLAGS]! & (dir === 0 ? F_EGRESS0 : F_EGRESS1)) this.mark(r, dir);
  }

  private touch(r: number, dir: number): void {
    const u = this.t.u32;
    const d = r >>> 1;
    if (u[r + R.COUNT] === 0) {
      this.t.c32[r + C.FIRST] = this.index;
      this.t.c64[d + CD.FIRST_MS] = this.ms;
      this.counted++;
    }
    u[r + R.COUNT]++;
    u[r + R.LAST] = this.index;
    this.t.f64[d + D.LAST_MS] = this.ms;
    if (dir !== u[r + R.INIT_DIR]) u[r + R.REPLIES]++;
  }

  /** Sets up flow `r` from the current packet (`provisional`: a look-back packet that may be no canary; F_PROVISIONAL). */
  private initFlow(r: number, dir: number, proto: number, sport: number, dport: number, provisional: boolean): void {
    const t = this.t;
    const p = this.policy;
    // fwd: the packet's own direction (src -> dst); rev: the reply direction.
    let fwd: boolean, rev: boolean, cf: boolean, cr: boolean;
    if (t.fam === 4) {
      fwd = p.egress4(t.s0, t.d0, proto, sport, dport);
      rev = p.egress4(t.d0, t.s0, proto, dport, sport);
      cf = p.confined4(t.d0);
      cr = p.confined4(t.s0);
    } else {
      fwd = p.egress6(t.s0, t.s1, t.s2, t.s3, t.d0, t.d1, t.d2, t.d3, proto);
      rev = p.egress6(t.d0, t.d1, t.d2, t.d3, t.s0, t.s1, t.s2, t.s3, proto);
      cf = p.confined6(t.d0);
      cr = p.confined6(t.s0);
    }
    const e0 = dir === 0 ? fwd : rev;
    const e1 = dir === 0 ? rev : fwd;
    const c0 = dir === 0 ? cf : cr;
    const c1 = dir === 0 ? cr : cf;
    const u = t.u32;
    // Names stay dense arrays (flow ids are created in order), never sparse dictionaries.
    const f = r / Layout.STRIDE;
    this.names[f] = undefined;
    u[r + R.INIT_DIR] = dir;
    const mac = this.macAt >= 0 ? macAt(this.macBuf, this.macAt) : 0;
    if (mac !== 0) {
      t.c32[r + C.MAC_HI] = 0x10000 | Math.floor(mac / 4294967296);
      t.c32[r + C.MAC_LO] = mac >>> 0;
    } else t.c32[r + C.MAC_HI] = 0;
    u[r + R.FLAGS] =
      (e0 ? F_EGRESS0 : 0) | (e1 ? F_EGRESS1 : 0) | (e0 || e1 ? F_HAS_EGRESS : 0) | (c0 ? F_CONFINED0 : 0) | (c1 ? F_CONFINED1 : 0) | (provisional ? F_PROVISIONAL : 0) |
      (u[r + R.FLAGS]! & F_LOSS);
  }

  /** Records a TLS/HTTP/QUIC name of flow `r` (the first becomes the flow's name; each is kept once). */
  /** Names the flow's process from the current packet's PKTAP header or PCAPdroid trailer (the first one seen wins). */
  private process(buf: Buffer, r: number): void {
    this.withProcess++;
    const f = r / Layout.STRIDE;
    if (this.procs[f] !== undefined) return;
    const at = this.procAt;
    let name: string;
    if (this.procKind === 1) {
      const pid = buf.readInt32LE(at + 52);
      const comm = cString(buf, at + 56, 20);
      if (!comm && pid <= 0) return;
      name = pid > 0 ? `${comm || '?'} (pid ${pid})` : comm;
    } else {
      const uid = buf.readInt32BE(at + 4);
      const app = cString(buf, at + 8, 20);
      name = uid >= 0 ? `${app || '?'} (uid ${uid})` : app;
    }
    this.procs[f] = name;
  }

  private setName(r: number, name: string, label: number): void {
    const f = r / Layout.STRIDE;
    const first = this.names[f];
    if (first === undefined) this.names[f] = name;
    this.t.u32[r + R.FLAGS] = this.t.u32[r + R.FLAGS]! | F_NAMED;
    if (first === name && label !== LABEL_HTTP) return;
    const key = `${f} ${name}`;
    if (this.appNameSeen.has(key)) return;
    this.appNameSeen.add(key);
    this.appNames.push({ flow: r, name, packet: this.index, ms: this.ms, label });
  }

  /** Reads one DNS message; returns true when it is a query for a name that must not leave. */
  /**
   * DNS over TCP (RFC 7766 section 8): each message after its 2-byte length. A message the
   * segment leaves incomplete is read as far as it goes (a sender may never finish it), kept, and
   * read whole when the next segment of that direction continues it: a query split across
   * segments, even one whose length travels alone, still names what it asks for.
   * True when a query in it is for a name that must not leave.
   */
  private dnsOverTcp(buf: Buffer, pay: number, end: number, r: number, dir: number, seq: number): boolean {
    let data = buf;
    let m = pay;
    let e = end;
    let skip = 0;
    const key = r + dir;
    const pending = this.dnsTcp.size > 0 ? this.dnsTcp.get(key) : undefined;
    if (pending !== undefined) {
      this.dnsTcp.delete(key);
      if (seq === pending.nextSeq) {
        data = Buffer.concat([pending.bytes, buf.subarray(pay, end)]);
        m = 0;
        e = data.length;
        skip = pending.read;
      }
    }
    let bad = false;
    while (m < e) {
      const mlen = e - m >= 2 ? (data[m]! << 8) | data[m + 1]! : -1;
      const whole = mlen >= 0 && m + 2 + mlen <= e;
      let read = 0;
      if (e - m > 14) {
        if (this.dnsMessage(data, m + 2, whole ? m + 2 + mlen : e, r, dir, skip)) bad = true;
        read = this.dnsRead;
        skip = 0;
      }
      if (!whole) {
        if (this.dnsTcp.size >= MAX_PENDING_HELLOS) {
          const oldest = this.dnsTcp.keys().next().value;
          if (oldest !== undefined) this.dnsTcp.delete(oldest);
        }
        this.dnsTcp.set(key, { bytes: Buffer.from(data.subarray(m, e)), nextSeq: (seq + (end - pay)) >>> 0, read });
        break;
      }
      m += 2 + mlen;
    }
    return bad;
  }

  private dnsMessage(buf: Buffer, msg: number, end: number, r: number, dir: number, skip = 0): boolean {
    this.dnsRead = 0;
    if (end - msg < 17) return false;
    const qd = (buf[msg + 4]! << 8) | buf[msg + 5]!;
    if (qd === 0) return false;
    const u = this.t.u32;
    u[r + R.LABEL] = LABEL_DNS;
    const isResponse = (buf[msg + 2]! & 0x80) !== 0;
    // Fast path: the same name as this flow's last query (checked byte for byte, not by hash,
    // so a crafted name cannot pass for an allowed one).
    const last = u[r + R.Q_RECORD]! - 1;
    if (last >= 0 && qd === 1 && skip === 0) {
      const rec = this.dns[last]!;
      if (dnsQuestionIs(buf, msg, end, rec.name)) {
        if (isResponse) {
          if (rec.dir !== dir) rec.answered = true;
          return false;
        }
        rec.count++;
        return (u[r + R.FLAGS]! & F_LAST_Q_BAD) !== 0;
      }
    }
    const name = dnsQuestionNameInterned(buf, msg, end);
    if (name === null) return false;
    let bad = this.dnsQuestion(name, r, dir, isResponse, skip > 0);
    this.dnsRead = 1;
    // Every further question of the message is a name as well (RFC 1035 section 4.1.2).
    let at = msg + 12;
    for (let q = 1; q < qd; q++) {
      at = dnsNextQuestion(buf, end, at);
      if (at < 0) break;
      const more = dnsQuestionName(buf, msg, end, at);
      if (more === null) break;
      if (this.dnsQuestion(more, r, dir, isResponse, q < skip)) bad = true;
      this.dnsRead = q + 1;
    }
    return bad;
  }

  /** One question name of a DNS message on flow `r`: true when it is a query a resolver would carry out. */
  private dnsQuestion(name: string, r: number, dir: number, isResponse: boolean, counted = false): boolean {
    const u = this.t.u32;
    const f = r / Layout.STRIDE;
    const key = `${f} ${name}`;
    if (isResponse) {
      const rec = this.dnsByFlow.get(key);
      if (rec !== undefined && this.dns[rec]!.dir !== dir) this.dns[rec]!.answered = true;
      return false;
    }
    // A resolver would carry the name out, unless the query cannot leave the link (mDNS, LLMNR).
    const flags = u[r + R.FLAGS]!;
    const confined = (flags & (dir === 0 ? F_CONFINED0 : F_CONFINED1)) !== 0;
    let allowed = this.allowedNames.get(name);
    if (allowed === undefined) {
      if (this.allowedNames.size >= 4096) this.allowedNames.clear();
      this.allowedNames.set(name, (allowed = this.policy.nameAllowed(name)));
    }
    const bad = !confined && !allowed;
    let rec = this.dnsByFlow.get(key);
    if (rec === undefined) {
      rec = this.dns.length;
      this.dns.push({ packet: this.index, ms: this.ms, name, flow: r, dir, answered: false, count: 1, bad });
      this.dnsByFlow.set(key, rec);
    } else if (!counted) this.dns[rec]!.count++;
    u[r + R.Q_RECORD] = rec + 1;
    if (this.names[f] === undefined) {
      this.names[f] = name;
      u[r + R.FLAGS] = u[r + R.FLAGS]! | F_NAMED;
    }
    if (bad) {
      u[r + R.FLAGS] = u[r + R.FLAGS]! | F_LAST_Q_BAD | F_DNSNAME;
      if (!this.badNames.has(f)) this.badNames.set(f, name);
    } else u[r + R.FLAGS] = u[r + R.FLAGS]! & ~F_LAST_Q_BAD;
    return bad;
  }

  private searchName(buf: Buffer, pay: number, len: number, r: number, seq: number): void {
    const u = this.t.u32;
    u[r + R.SEARCHED]++;
    // The flag spares a Map lookup for every early payload packet of flows that have none.
    const pending = (u[r + R.FLAGS]! & F_PENDING_HELLO) !== 0 ? this.pendingHello.get(r) : undefined;
    if (pending) {
      if (seq !== pending.nextSeq) return;
      const take = Math.min(len, pending.need - pending.len);
      buf.copy(pending.buf, pending.len, pay, pay + take);
      pending.len += take;
      pending.nextSeq = (seq + len) >>> 0;
      if (pending.len >= pending.need) {
        this.pendingHello.delete(r);
        u[r + R.FLAGS] = u[r + R.FLAGS]! & ~F_PENDING_HELLO;
        const sni = tlsServerName(pending.buf, 0, pending.need);
        if (sni) this.setName(r, sni, LABEL_TLS);
      }
      return;
    }
    const need = tlsClientHelloRecordLength(buf, pay, len);
    if (need > 0) {
      if (u[r + R.LABEL] === LABEL_NONE) u[r + R.LABEL] = LABEL_TLS;
      if (need <= len) {
        const sni = tlsServerName(buf, pay, need);
        if (sni) this.setName(r, sni, LABEL_TLS);
      } else if (need <= MAX_HELLO) {
        if (this.pendingHello.size >= MAX_PENDING_HELLOS) {
          const oldest = this.pendingHello.keys().next().value;
          if (oldest !== undefined) {
            this.pendingHello.delete(oldest);
            u[oldest + R.FLAGS] = u[oldest + R.FLAGS]! & ~F_PENDING_HELLO;
          }
        }
        const b = Buffer.allocUnsafe(need);
        buf.copy(b, 0, pay, pay + len);
        this.pendingHello.set(r, { buf: b, len, need, nextSeq: (seq + len) >>> 0 });
        u[r + R.FLAGS] = u[r + R.FLAGS]! | F_PENDING_HELLO;
      }
      return;
    }
    if (u[r + R.LABEL] === LABEL_HTTP || looksLikeHttpRequest(buf, pay, len)) {
      u[r + R.LABEL] = LABEL_HTTP;
      // Every request of a kept-alive connection (and of a pipeline in one segment) may name another host.
      for (const host of httpHosts(buf, pay, len)) this.setName(r, host, LABEL_HTTP);
    }
  }

  /** Reads the ClientHello's server name from the QUIC Initial packets of flow `r` (RFC 9001 section 5). */
  private quicName(buf: Buffer, pay: number, len: number, r: number): void {
    const u = this.t.u32;
    u[r + R.SEARCHED]++;
    let asm = this.quicHellos.get(r);
    if (asm === undefined) {
      if (this.quicHellos.size >= MAX_PENDING_HELLOS) {
        const oldest = this.quicHellos.keys().next().value;
        if (oldest !== undefined) this.quicHellos.delete(oldest);
      }
      asm = new QuicCryptoAssembler();
      this.quicHellos.set(r, asm);
    }
    const sni = asm.addDatagram(buf, pay, len);
    if (sni !== undefined) {
      this.quicHellos.delete(r);
      if (sni !== null) this.setName(r, sni, LABEL_QUIC);
      else u[r + R.SEARCHED] = NAME_SEARCH_PACKETS; // a whole ClientHello without a name: stop looking
    }
  }

  /** IPv4 text per address (keys as int32, so they stay small integers). */
  private readonly v4Text = new Map<number, string>();

  /** End `end`'s address as words (one for IPv4, four for IPv6). */
  private addrWords(r: number, end: number): number[] {
    const u = this.t.u32;
    const w0 = u[r + (end === 0 ? R.A0 : R.B0)]!;
    if (u[r + R.FAMPROTO]! >>> 8 === 4) return [w0];
    const c = this.t.c32;
    const k = r + (end === 0 ? C.A123 : C.B123);
    return [w0, c[k]!, c[k + 1]!, c[k + 2]!];
  }

  private addr(r: number, end: number): string {
    const u = this.t.u32;
    const w0 = u[r + (end === 0 ? R.A0 : R.B0)]!;
    if (u[r + R.FAMPROTO]! >>> 8 === 4) {
      const w = w0;
      let s = this.v4Text.get(w | 0);
      if (s === undefined) this.v4Text.set(w | 0, (s = formatIPv4(w)));
      return s;
    }
    const c = this.t.c32;
    const k = r + (end === 0 ? C.A123 : C.B123);
    return formatIPv6(w0, c[k]!, c[k + 1]!, c[k + 2]!);
  }

  private protocolOf(r: number): string {
    const u = this.t.u32;
    const l = u[r + R.LABEL]!;
    if (l !== LABEL_NONE) return LABELS[l]!;
    const p = u[r + R.FAMPROTO]! & 0xff;
    return p === P_TCP ? 'tcp' : p === P_UDP ? 'udp' : p === P_ICMP ? 'icmp' : p === P_ICMPV6 ? 'icmpv6' : String(p);
  }

  /**
   * Flow summaries of this file, built on demand from the compact flow records. Built for
   * memory (200,000 of them are held at once: docs/performance.md): one object each and no
   * temporaries, addresses and MACs as one shared string per distinct value (addr(), macOf()),
   * the optional fields set after the literal (the same keys in the same order as a spread).
   */
  flowSummaries(): FlowSummary[] {
    const t = this.t;
    const u = t.u32;
    const d64 = t.f64;
    const flows: FlowSummary[] = [];
    for (let f = 0; f < t.size; f++) {
      const r = f * Layout.STRIDE;
      if (u[r + R.COUNT] === 0) continue; // only canaries
      const a = this.addr(r, 0);
      const b = this.addr(r, 1);
      const init = u[r + R.INIT_DIR]!;
      const proto = u[r + R.FAMPROTO]! & 0xff;
      const hasPorts = proto === P_TCP || proto === P_UDP;
      const portA = u[r + R.PORTS]! >>> 16;
      const portB = u[r + R.PORTS]! & 0xffff;
      const s: FlowSummary = {
        file: this.fileLabel,
        src: init === 0 ? a : b,
        dst: init === 0 ? b : a,
        srcPort: hasPorts ? (init === 0 ? portA : portB) : undefined,
        dstPort: hasPorts ? (init === 0 ? portB : portA) : undefined,
        protocol: this.protocolOf(r),
        name: this.names[f],
        packet: t.c32[r + C.FIRST]!,
        lastPacket: u[r + R.LAST]!,
        count: u[r + R.COUNT]!,
        firstMs: t.c64[(r >>> 1) + CD.FIRST_MS]!,
        lastMs: d64[(r >>> 1) + D.LAST_MS]!,
        inLab: u[r + R.F_COUNT] === 0,
        replies: u[r + R.REPLIES]!,
        srcMac: this.macOf(r),
      };
      const proc = this.procs[f];
      if (proc !== undefined) s.process = proc;
      const flags = u[r + R.FLAGS]!;
      if ((flags & (F_CANARY0 | F_CANARY1)) !== 0) {
        s.canary = true;
        if ((flags & F_JUDGED) === 0) s.canaryOnly = true;
      }
      flows.push(s);
    }
    return flows;
  }

  /** MAC text per MAC (the cold record's two words as one number): a capture has few MACs and many flows. */
  private readonly macText = new Map<number, string>();

  /** Source MAC of flow `r`'s first packet as text, when known. */
  private macOf(r: number): string | undefined {
    const hi = this.t.c32[r + C.MAC_HI]!;
    if (hi === 0) return undefined;
    const lo = this.t.c32[r + C.MAC_LO]!;
    const key = (hi & 0xffff) * 0x1_0000_0000 + lo;
    let s = this.macText.get(key);
    if (s === undefined) {
      const b = [(hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
      this.macText.set(key, (s = b.map((x) => x.toString(16).padStart(2, '0')).join(':')));
    }
    return s;
  }

  /** Number of flows (canary-only flows excluded). */
  flowCount(): number {
    return this.counted;
  }

  /** Turns this file's flagged flows into findings, and its DNS queries into records; drops per-scan state. */
  finish(catalogue: EndpointCatalogue, findings: NetworkFinding[], dnsQueries: DnsQuery[]): void {
    this.collect(catalogue, findings, dnsQueries);
    // Only the flow records, names and the address cache stay (for flowSummaries()); the
    // look-up index and the capture-loss meter's per-flow words go (its counts are kept apart).
    this.t.endLookups();
    releaseBuffers(this.loss.state);
    this.loss.state = new Int32Array(0);
    this.dns.length = 0;
    this.dnsByFlow.clear();
    this.pendingHello.clear();
    this.dnsTcp.clear();
    this.quicHellos.clear();
    this.appNames.length = 0;
    this.appNameSeen.clear();
    this.fragments.clear();
    this.flagged = [];
    this.badNames.clear();
  }

  /** Changes whenever what collect() would give may have changed (a new flow, finding, DNS query or name). */
  version(): number {
    return this.counted + this.flagged.length + this.dns.length + this.appNames.length;
  }

  /** The findings and DNS queries of the packets so far, leaving the scan going (live analysis). */
  collect(catalogue: EndpointCatalogue, findings: NetworkFinding[], dnsQueries: DnsQuery[]): void {
    const t = this.t;
    const u = t.u32;
    const byName = new Map<string, EndpointMatch | undefined>();
    const byAddress = new Map<string, EndpointMatch | undefined>();
    const lookupName = (n: string | undefined): EndpointMatch | undefined => {
      if (n === undefined) return undefined;
      if (!byName.has(n)) byName.set(n, catalogue.match(n, undefined));
      return byName.get(n);
    };
    // By the flow's own address words (its text is only the cache key): no address is parsed back.
    const lookupAddress = (a: string, r: number, end: number): EndpointMatch | undefined => {
      if (!byAddress.has(a)) byAddress.set(a, catalogue.matchAddress(u[r + R.FAMPROTO]! >>> 8 === 4 ? 4 : 6, this.addrWords(r, end)));
      return byAddress.get(a);
    };
    // Flagged flows in flow-table order (as a walk over all records would meet them), without
    // walking the hundreds of thousands of records that hold no finding.
    const flagged = Int32Array.from(this.flagged).sort();
    // Every name each flagged flow carried, with the packet that first carried it.
    const flowNames = new Map<number, Array<{ name: string; packet: number; ms: number; label: number; bad: boolean }>>();
    for (const r of flagged) flowNames.set(r, []);
    for (const q of this.dns) flowNames.get(q.flow)?.push({ name: q.name, packet: q.packet, ms: q.ms, label: LABEL_DNS, bad: q.bad });
    for (const n of this.appNames) flowNames.get(n.flow)?.push({ name: n.name, packet: n.packet, ms: n.ms, label: n.label, bad: false });
    for (const r of flagged) {
      const f = r / Layout.STRIDE;
      const fCount = u[r + R.F_COUNT]!;
      const a = this.addr(r, 0);
      const b = this.addr(r, 1);
      const portA = u[r + R.PORTS]! >>> 16;
      const portB = u[r + R.PORTS]! & 0xffff;
      const proto = u[r + R.FAMPROTO]! & 0xff;
      const hasPorts = proto === P_TCP || proto === P_UDP;
      const protocol = this.protocolOf(r);
      const name = this.names[f];
      const d = t.c32[r + C.F_DIR]!;
      const src = d === 0 ? a : b;
      const dst = d === 0 ? b : a;
      const flags = u[r + R.FLAGS]!;
      const egress = (flags & F_HAS_EGRESS) !== 0;
      const fname = egress ? name : (this.badNames.get(f) ?? name);
      const answered = u[r + R.REPLIES]! > 0;
      const reason = !answered ? 'attempt' : egress ? 'egress' : 'dns-name';
      const finding: NetworkFinding = {
        kind: 'network',
        file: this.fileLabel,
        packet: t.c32[r + C.F_FIRST]!,
        lastPacket: t.c32[r + C.F_LAST]!,
        count: fCount,
        time: isoTime(t.c64[(r >>> 1) + CD.F_FIRST_MS]!),
        src,
        dst,
        protocol,
        reason,
        summary: '',
      };
      if (hasPorts) {
        finding.srcPort = d === 0 ? portA : portB;
        finding.dstPort = d === 0 ? portB : portA;
      }
      if (fname !== undefined) finding.name = fname;
      const proc = this.procs[f];
      if (proc !== undefined) finding.process = proc;
      // An egress flow carried every name it holds out of the lab; a DNS flow to a lab resolver, the names a resolver would carry out.
      const carried = flowNames.get(r)!.filter((n) => egress || n.bad).sort((x, y) => x.packet - y.packet);
      if (carried.length > 0) finding.names = carried.map((n): FoundName => ({ name: n.name, packet: n.packet, time: isoTime(n.ms), protocol: LABELS[n.label]! }));
      const mac = d === u[r + R.INIT_DIR] ? this.macOf(r) : undefined;
      if (mac !== undefined) finding.srcMac = mac;
      const endpoint = lookupName(fname) ?? lookupAddress(dst, r, d === 0 ? 1 : 0) ?? lookupAddress(src, r, d);
      if (endpoint) finding.endpoint = endpoint;
      const where = hasPorts ? `${src}:${finding.srcPort} -> ${dst}:${finding.dstPort}` : `${src} -> ${dst}`;
      const nameList = namesText(finding.names, fname);
      const what = egress
        ? `${protocol.toUpperCase()} ${where}${nameList ? ` (${nameList})` : ''} leaves the lab`
        : `DNS ${finding.names && finding.names.length > 1 ? 'queries' : 'query'} for ${nameList} (a resolver would carry the name out of the lab): ${where}`;
      const attempt = !answered ? (proto === P_TCP ? '; no answer (unanswered SYN: an attempt)' : '; no reply seen (an attempt)') : '';
      const packets = fCount > 1 ? `, ${fCount} packets #${finding.packet}..#${finding.lastPacket}` : `, packet #${finding.packet}`;
      finding.summary = `${what}${packets}${attempt}${proc !== undefined ? `; process ${proc}` : ''}${endpoint ? `; known endpoint: ${endpoint.vendor} ${endpoint.service}` : ''}`;
      findings.push(finding);
    }
    for (const q of this.dns) {
      const a = this.addr(q.flow, 0);
      const b = this.addr(q.flow, 1);
      dnsQueries.push({
        file: this.fileLabel,
        packet: q.packet,
        time: isoTime(q.ms),
        name: q.name,
        src: q.dir === 0 ? a : b,
        dst: q.dir === 0 ? b : a,
        answered: q.answered,
        count: q.count,
      });
    }
  }
}

/**
 * The egress scan fed packet by packet: `file(label)` gives the callback for one capture file
 * (its packets in order), `endFile(label, info)` closes it, `result()` gives the scan. Reading
 * files (scanCaptures) and live capture feed it alike; the verdict engine (src/verdict/engine.ts)
 * keeps one per judged window.
 */
export class NetworkScanner {
  private readonly policy: EgressPolicy;
  private readonly catalogue: EndpointCatalogue;
  private readonly perFile: FileScanner[] = [];
  private readonly open = new Map<string, FileScanner>();
  private readonly scan: NetworkScan;
  private flows: FlowSummary[] | undefined;
  /** Live analysis: what sealed files left (seal()); files that left nothing have no entry. */
  private readonly sealed = new Map<string, SealedFile>();
  private sealedVersion = 0;
  /** (source, MAC) pairs already kept by a sealed file for tying findings to devices. */
  private readonly identities = new Set<string>();

  constructor(private readonly opts: ScanOptions) {
    this.policy = new EgressPolicy(opts.lab, opts.labNames ?? []);
    this.catalogue = opts.catalogue ?? loadCatalogue();
    this.scan = {
      verdict: 'PASS',
      analyzerVersion: ANALYZER_VERSION,
      findings: [],
      flowCount: 0,
      dnsQueries: [],
      canaries: [],
      damage: [],
      files: [],
      packets: 0,
    } as Omit<NetworkScan, 'flows'> as NetworkScan;
    // Flow summaries are built from the compact flow records on first access of `flows`
    // (hundreds of thousands of objects a caller may never look at).
    Object.defineProperty(this.scan, 'flows', {
      enumerable: true,
      // One file's array as it is (flatMap would hold a second copy while it copies).
      get: (): FlowSummary[] => (this.flows ??= this.perFile.length === 1 ? this.perFile[0]!.flowSummaries() : this.perFile.flatMap((s) => s.flowSummaries())),
    });
  }

  /** The packet callback of one capture file (label as findings name it). */
  file(label: string): (p: CapturePacket) => void {
    let scanner = this.open.get(label);
    if (!scanner) {
      scanner = new FileScanner(this.policy, this.opts, label);
      this.open.set(label, scanner);
    }
    return scanner.callback;
  }

  /** The look-back callback of one file: the previous part's last packets, for canaries only (FileScanner.lookback). */
  fileLookback(label: string): (p: CapturePacket) => void {
    this.file(label);
    return this.open.get(label)!.lookback;
  }

  /** Ends one file: its findings, DNS queries, canaries and damage join the scan. */
  endFile(label: string, info: CaptureInfo): void {
    const scanner = this.open.get(label) ?? new FileScanner(this.policy, this.opts, label);
    this.open.delete(label);
    const result = this.scan;
    scanner.finish(this.catalogue, result.findings, result.dnsQueries);
    this.perFile.push(scanner);
    result.flowCount += scanner.flowCount();
    result.canaries.push(...scanner.canaries);
    result.packets += info.packets;
    const summary: FileSummary = {
      file: label,
      format: info.format,
      packets: info.packets,
      linkTypes: info.linkTypes,
      linkControl: scanner.linkControl,
      radiotap: scanner.radiotap,
      radio: scanner.radio,
      withProcess: scanner.withProcess,
      unjudged: [...scanner.unknown.values()].map((k) => ({ type: describeUnjudged(k.kind, k.value), count: k.count, packet: k.packet })),
      malformed: scanner.malformed,
      inWindow: scanner.inWindow,
      tcpLoss: scanner.loss.counts(),
    };
    if (info.firstMs !== undefined) summary.firstMs = info.firstMs;
    if (info.lastMs !== undefined) summary.lastMs = info.lastMs;
    if (info.ifDrops !== undefined) summary.ifDrops = info.ifDrops;
    result.files.push(summary);
    if (info.damage) result.damage.push({ file: label, offset: info.damage.offset, reason: info.damage.reason });
    // A frame this analyzer cannot read is a frame it cannot clear: the window is INCONCLUSIVE, naming the type.
    for (const k of scanner.unknown.values()) {
      result.damage.push({
        file: label,
        unjudged: true,
        offset: k.offset,
        reason: `${k.count} frame${k.count === 1 ? '' : 's'} of ${describeUnjudged(k.kind, k.value)} (first: packet #${k.packet}) ${k.count === 1 ? 'is' : 'are'} not decoded, so ${k.count === 1 ? 'it was' : 'they were'} not judged`,
      });
    }
    if (info.ifDrops) {
      result.damage.push({ file: label, offset: -1, reason: `the capture's statistics report ${info.ifDrops} packets dropped by the interface` });
    }
  }

  /** The capture-loss counts of an open file so far (test/analysis/capture-loss-model.test.ts compares them segment by segment). */
  lossCounts(label: string): CaptureLossCounts | undefined {
    return this.open.get(label)?.loss.counts();
  }

  /**
   * The findings, DNS queries, canaries and flows of the files still open (`labels`, in that
   * order), as endFile would give them now, without ending anything: the live analysis
   * (src/verdict/live.ts) asks this while the captures are still being written.
   */
  peek(labels: string[]): Pick<NetworkScan, 'findings' | 'dnsQueries' | 'canaries' | 'flows'> {
    const parts: Array<FileScanner | SealedFile> = [];
    for (const l of labels) {
      const part = this.sealed.get(l) ?? this.open.get(l);
      if (part) parts.push(part);
    }
    const findings: NetworkFinding[] = [];
    const dnsQueries: DnsQuery[] = [];
    for (const s of parts) {
      if (s instanceof FileScanner) s.collect(this.catalogue, findings, dnsQueries);
      else {
        findings.push(...s.findings);
        dnsQueries.push(...s.dnsQueries);
      }
    }
    let flows: FlowSummary[] | undefined;
    return {
      findings,
      dnsQueries,
      canaries: parts.flatMap((s) => (s instanceof FileScanner ? s.canaries : [])),
      get flows() {
        return (flows ??= parts.flatMap((s) => (s instanceof FileScanner ? s.flowSummaries() : s.flows)));
      },
    };
  }

  /**
   * Live analysis of a rotated capture: a part read to its end (no packet will be fed to it any
   * more) is sealed. What the rules can still read of it is kept as records: its findings, the
   * DNS queries `keep.dns` selects (no_dns: the names it does not allow), the flows `keep.flows`
   * selects (traffic_only_to: to a host it does not allow; never a canary flow or a canary
   * packet's flow, which that rule drops), and when `keep.identities`
   * (no_egress naming devices) one flow per source address and MAC not kept before, marked
   * canary-only so no rule judges it (src/verdict/attribution.ts reads only their address and
   * MAC). Its FileScanner (flow table, caches, canary records) goes: a window held for hours
   * holds the tables of its captures' current parts, not of every part (docs/performance.md).
   * peek() gives the same findings after sealing as before.
   */
  seal(label: string, keep: SealKeep): void {
    const s = this.open.get(label);
    if (!s) return;
    this.open.delete(label);
    this.sealedVersion += s.version();
    const findings: NetworkFinding[] = [];
    const queries: DnsQuery[] = [];
    s.collect(this.catalogue, findings, queries);
    const dnsQueries = keep.dns ? queries.filter(keep.dns) : [];
    const flows: FlowSummary[] = [];
    if (keep.flows || keep.identities) {
      const canaryPackets = new Set(s.canaries.map((c) => c.packet));
      for (const f of s.flowSummaries()) {
        const judged = !f.canaryOnly && !canaryPackets.has(f.packet);
        const pair = `${f.src}|${f.srcMac}`;
        if (keep.flows && judged && keep.flows(f)) {
          flows.push(f);
          if (f.srcMac !== undefined) this.identities.add(pair);
        } else if (keep.identities && f.srcMac !== undefined && !this.identities.has(pair)) {
          this.identities.add(pair);
          flows.push({ ...f, canaryOnly: true });
        }
      }
    }
    if (findings.length + dnsQueries.length + flows.length > 0) this.sealed.set(label, { findings, dnsQueries, flows });
  }

  /** What this scanner holds (live analysis; test/verdict/live-memory.test.ts): open files' flow records, sealed records. */
  retained(): { openFiles: number; flowRecords: number; sealedFiles: number; sealedRecords: number } {
    let flowRecords = 0;
    for (const s of this.open.values()) flowRecords += s.t.size;
    let sealedRecords = this.identities.size;
    for (const s of this.sealed.values()) sealedRecords += s.findings.length + s.dnsQueries.length + s.flows.length;
    return { openFiles: this.open.size, flowRecords, sealedFiles: this.sealed.size, sealedRecords };
  }

  /** Sum of the open files' versions (and the sealed ones'): unchanged means peek() would give the same. */
  version(): number {
    let v = this.sealedVersion;
    for (const s of this.open.values()) v += s.version();
    return v;
  }

  /** The scan of every file ended so far. */
  result(): NetworkScan {
    const result = this.scan;
    result.verdict = result.findings.length > 0 ? 'FAIL' : result.damage.length > 0 ? 'INCONCLUSIVE' : 'PASS';
    return result;
  }
}

/** The label findings give a capture file: relative to `baseDir` when one is given. */
export function fileLabel(file: string, baseDir?: string): string {
  return baseDir ? path.relative(baseDir, file) : file;
}

/** Scans captures and judges every packet against the lab's egress policy. */
export async function scanCaptures(files: string[], opts: ScanOptions): Promise<NetworkScan> {
  const scanner = new NetworkScanner(opts);
  for (const file of files) {
    const label = fileLabel(file, opts.baseDir);
    // The read buffers are freed at once (16 MiB, before the flow summaries may be built), unless
    // onRadio's consumers see the packets: what they keep of the bytes is theirs to say.
    const info = await readCapture(file, scanner.file(label), { release: opts.onRadio === undefined });
    scanner.endFile(label, info);
  }
  return scanner.result();
}
