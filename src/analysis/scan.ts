/**
 * The egress scan: decode every packet of every capture (link layer -> IP -> transport ->
 * names), keep one flow per conversation in typed arrays, judge each packet with the
 * EgressPolicy, and turn flows into findings that name their evidence.
 *
 * Hand-written hot path (see capture-reader.ts): one decoder object, numbers not strings,
 * strings only when a flow meets a name it has not reported yet.
 */
import path from 'node:path';
import { readCapture, type CapturePacket } from './capture-reader.js';
import { FlowTable, growF64, growI32, growU32, growU8 } from './flow-table.js';
import { EgressPolicy } from './egress-policy.js';
import { formatIPv4, formatIPv6 } from './address.js';
import {
  dnsQuestionHash,
  dnsQuestionName,
  httpHost,
  isQuicInitial,
  looksLikeHttpRequest,
  tlsClientHelloRecordLength,
  tlsServerName,
} from './app-names.js';
import { CANARY_MAGIC, CANARY_PORT, decodeCanary, type Canary } from './canary.js';
import { loadCatalogue, type EndpointCatalogue } from './catalogue.js';
import type { NetworkFinding, Verdict } from './finding.js';

/** Bump when what counts as a finding, or how findings are grouped, changes. */
export const ANALYZER_VERSION = '1';

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
  /** Called for every 802.11 radiotap frame (link type 127); the view is valid only during the call. */
  onRadiotap?: (p: CapturePacket, file: string) => void;
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
  /** Packets the responder sent. */
  replies: number;
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

export interface CaptureDamage {
  file: string;
  offset: number;
  reason: string;
}

export interface FileSummary {
  file: string;
  format: 'pcap' | 'pcapng';
  packets: number;
  firstMs?: number;
  lastMs?: number;
  linkTypes: number[];
  ifDrops?: number;
  /** Frames that carry no IP (ARP, LLDP...): they stay on the link. */
  nonIp: number;
  /** 802.11 radiotap frames, handed to `onRadiotap`. */
  radiotap: number;
  /** Frames of a link type this analyzer does not decode (not judged). */
  undecoded: number;
  /** Frames too short or malformed to read addresses from. */
  malformed: number;
}

export interface NetworkScan {
  verdict: Verdict;
  analyzerVersion: string;
  findings: NetworkFinding[];
  flows: FlowSummary[];
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
  flow: number;
  dir: number;
  answered: boolean;
  count: number;
}

/** Per-file state and the decoder; one instance scans one file. */
class FileScanner {
  readonly t: FlowTable;
  // per-flow statistics (indexed by flow id)
  private initDir = new Uint8Array(1024);
  private flags = new Uint8Array(1024);
  private label = new Uint8Array(1024);
  private searched = new Uint8Array(1024);
  private first = new Uint32Array(1024);
  private last = new Uint32Array(1024);
  private count = new Uint32Array(1024);
  private replies = new Uint32Array(1024);
  private firstMs = new Float64Array(1024);
  private lastMs = new Float64Array(1024);
  private fFirst = new Uint32Array(1024);
  private fLast = new Uint32Array(1024);
  private fCount = new Uint32Array(1024);
  private fDir = new Uint8Array(1024);
  private fFirstMs = new Float64Array(1024);
  private lastQHash = new Uint32Array(1024);
  private lastQRecord = new Int32Array(1024).fill(-1);
  private names: (string | undefined)[] = [];
  private badNames: (string | undefined)[] = [];

  private readonly dns: DnsRecord[] = [];
  private readonly dnsByKey = new Map<number, number>();
  private readonly pendingHello = new Map<number, PendingHello>();
  private readonly fragments = new Map<string, number>();
  readonly canaries: SeenCanary[] = [];

  nonIp = 0;
  radiotap = 0;
  undecoded = 0;
  undecodedFirstOffset = -1;
  undecodedTypes = new Set<number>();
  malformed = 0;

  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly secret: string | undefined;
  private readonly onPacketBound: (p: CapturePacket) => void;

  constructor(
    private readonly policy: EgressPolicy,
    opts: ScanOptions,
    private readonly fileLabel: string,
  ) {
    this.t = new FlowTable((cap) => this.grow(cap));
    this.fromMs = opts.fromMs ?? -Infinity;
    this.toMs = opts.toMs ?? Infinity;
    this.secret = opts.canarySecret;
    const radiotap = opts.onRadiotap;
    this.onPacketBound = (p) => this.onPacket(p, radiotap);
  }

  get callback(): (p: CapturePacket) => void {
    return this.onPacketBound;
  }

  private grow(cap: number): void {
    this.initDir = growU8(this.initDir, cap);
    this.flags = growU8(this.flags, cap);
    this.label = growU8(this.label, cap);
    this.searched = growU8(this.searched, cap);
    this.first = growU32(this.first, cap);
    this.last = growU32(this.last, cap);
    this.count = growU32(this.count, cap);
    this.replies = growU32(this.replies, cap);
    this.firstMs = growF64(this.firstMs, cap);
    this.lastMs = growF64(this.lastMs, cap);
    this.fFirst = growU32(this.fFirst, cap);
    this.fLast = growU32(this.fLast, cap);
    this.fCount = growU32(this.fCount, cap);
    this.fDir = growU8(this.fDir, cap);
    this.fFirstMs = growF64(this.fFirstMs, cap);
    this.lastQHash = growU32(this.lastQHash, cap);
    this.lastQRecord = growI32(this.lastQRecord, cap, -1);
  }

  private onPacket(p: CapturePacket, onRadiotap: ScanOptions['onRadiotap']): void {
    const buf = p.buf;
    let off = p.offset;
    let end = off + p.caplen;
    let et = 0;
    switch (p.linkType) {
      case 1: // Ethernet, with 802.1Q / QinQ tags
        if (end - off < 14) {
          this.malformed++;
          return;
        }
        et = (buf[off + 12]! << 8) | buf[off + 13]!;
        off += 14;
        while ((et === 0x8100 || et === 0x88a8 || et === 0x9100) && end - off >= 4) {
          et = (buf[off + 2]! << 8) | buf[off + 3]!;
          off += 4;
        }
        break;
      case 113: // Linux cooked v1
        if (end - off < 16) {
          this.malformed++;
          return;
        }
        et = (buf[off + 14]! << 8) | buf[off + 15]!;
        off += 16;
        break;
      case 276: // Linux cooked v2
        if (end - off < 20) {
          this.malformed++;
          return;
        }
        et = (buf[off]! << 8) | buf[off + 1]!;
        off += 20;
        break;
      case 101:
      case 12:
      case 14: // raw IP: the version nibble decides
        if (end - off < 1) {
          this.malformed++;
          return;
        }
        et = buf[off]! >> 4 === 4 ? 0x0800 : buf[off]! >> 4 === 6 ? 0x86dd : 0;
        break;
      case 228:
        et = 0x0800;
        break;
      case 229:
        et = 0x86dd;
        break;
      case 0:
      case 108: {
        // BSD loopback: 4-byte address family, host order (0) or network order (108)
        if (end - off < 4) {
          this.malformed++;
          return;
        }
        const le = buf[off]! | (buf[off + 3]! << 24);
        const be = buf[off + 3]! | (buf[off]! << 24);
        const fam = le === 0 && be === 0 ? 0 : buf[off]! !== 0 ? buf[off]! : buf[off + 3]!;
        et = fam === 2 ? 0x0800 : fam === 24 || fam === 28 || fam === 30 ? 0x86dd : 0;
        off += 4;
        break;
      }
      case 127:
        this.radiotap++;
        if (onRadiotap) onRadiotap(p, this.fileLabel);
        return;
      default:
        this.undecoded++;
        if (this.undecodedFirstOffset < 0) this.undecodedFirstOffset = p.fileOffset;
        this.undecodedTypes.add(p.linkType);
        return;
    }
    const ms = p.timeMs;
    if (ms < this.fromMs || ms >= this.toMs) return;
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
      proto = buf[off + 9]!;
      t.fam = 4;
      t.s0 = ((buf[off + 12]! << 24) | (buf[off + 13]! << 16) | (buf[off + 14]! << 8) | buf[off + 15]!) >>> 0;
      t.d0 = ((buf[off + 16]! << 24) | (buf[off + 17]! << 16) | (buf[off + 18]! << 8) | buf[off + 19]!) >>> 0;
      t.s1 = t.s2 = t.s3 = t.d1 = t.d2 = t.d3 = 0;
      const frag = (buf[off + 6]! << 8) | buf[off + 7]!;
      if ((frag & 0x3fff) !== 0) {
        const key = `4/${t.s0}/${t.d0}/${proto}/${(buf[off + 4]! << 8) | buf[off + 5]!}`;
        if ((frag & 0x1fff) !== 0) {
          nonFirstFragment = true;
          const known = this.fragments.get(key);
          if (known !== undefined) {
            this.account(p, known, t.s0 === t.addr[known * 8] && t.d0 === t.addr[known * 8 + 4] ? 0 : 1, ms);
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
      // Extension headers.
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
                const k = known * 8;
                this.account(p, known, t.s0 === t.addr[k] && t.s1 === t.addr[k + 1] && t.s2 === t.addr[k + 2] && t.s3 === t.addr[k + 3] ? 0 : 1, ms);
                return;
              }
            } else firstFragmentKey = key;
          }
        } else break;
      }
      if (l4 > end) l4 = end;
    } else {
      this.nonIp++;
      return;
    }
    t.proto = proto;
    let sport = 0;
    let dport = 0;
    let pay = end;
    let seq = 0;
    if (!nonFirstFragment) {
      if (proto === P_TCP && end - l4 >= 20) {
        sport = (buf[l4]! << 8) | buf[l4 + 1]!;
        dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
        seq = ((buf[l4 + 4]! << 24) | (buf[l4 + 5]! << 16) | (buf[l4 + 6]! << 8) | buf[l4 + 7]!) >>> 0;
        pay = Math.min(end, l4 + (buf[l4 + 12]! >> 4) * 4);
      } else if (proto === P_UDP && end - l4 >= 8) {
        sport = (buf[l4]! << 8) | buf[l4 + 1]!;
        dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
        const ulen = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
        if (ulen >= 8 && l4 + ulen < end) end = l4 + ulen;
        pay = l4 + 8;
      }
    }
    t.sp = sport;
    t.dp = dport;
    const f = t.lookup();
    const dir = t.dir;
    if (t.created) this.initFlow(f, dir, proto, sport, dport);
    if (firstFragmentKey !== null) {
      if (this.fragments.size > 65536) this.fragments.clear();
      this.fragments.set(firstFragmentKey, f);
    }
    // Canaries: never findings when they carry a valid mark under this run's secret.
    if (this.secret !== undefined && proto === P_UDP && dport === CANARY_PORT && end - pay > CANARY_MAGIC.length && buf[pay] === 0x41) {
      const c = decodeCanary(this.secret, buf.subarray(pay, end));
      if (c) {
        this.canaries.push({ ...c, file: this.fileLabel, packet: p.index, timeMs: ms });
        this.touch(f, dir, p.index, ms);
        return;
      }
    }
    let finding = (this.flags[f]! & (dir === 0 ? F_EGRESS0 : F_EGRESS1)) !== 0;
    const payLen = end - pay;
    if (payLen > 0 && !nonFirstFragment) {
      if (proto === P_UDP) {
        if (sport === 53 || dport === 53 || sport === 5353 || dport === 5353 || sport === 5355 || dport === 5355) {
          if (this.dnsMessage(buf, pay, end, f, dir, p.index, ms)) finding = true;
        } else if (this.label[f] === LABEL_NONE && isQuicInitial(buf, pay, payLen)) this.label[f] = LABEL_QUIC;
      } else if (proto === P_TCP) {
        if ((sport === 53 || dport === 53) && payLen > 14) {
          if (this.dnsMessage(buf, pay + 2, end, f, dir, p.index, ms)) finding = true;
        } else if (dir === this.initDir[f] && this.names[f] === undefined && this.searched[f]! < NAME_SEARCH_PACKETS) {
          this.searchName(buf, pay, payLen, f, seq);
        }
      }
    }
    this.touch(f, dir, p.index, ms);
    if (finding) {
      if (this.fCount[f] === 0) {
        this.fFirst[f] = p.index;
        this.fFirstMs[f] = ms;
        this.fDir[f] = dir;
      }
      this.fLast[f] = p.index;
      this.fCount[f]++;
    }
  }

  /** Attributes a non-first fragment to its first fragment's flow. */
  private account(p: CapturePacket, f: number, dir: number, ms: number): void {
    this.touch(f, dir, p.index, ms);
    if (this.flags[f]! & (dir === 0 ? F_EGRESS0 : F_EGRESS1)) {
      if (this.fCount[f] === 0) {
        this.fFirst[f] = p.index;
        this.fFirstMs[f] = ms;
        this.fDir[f] = dir;
      }
      this.fLast[f] = p.index;
      this.fCount[f]++;
    }
  }

  private touch(f: number, dir: number, index: number, ms: number): void {
    if (this.count[f] === 0) {
      this.first[f] = index;
      this.firstMs[f] = ms;
    }
    this.count[f]++;
    this.last[f] = index;
    this.lastMs[f] = ms;
    if (dir !== this.initDir[f]) this.replies[f]++;
  }

  private initFlow(f: number, dir: number, proto: number, sport: number, dport: number): void {
    const t = this.t;
    const p = this.policy;
    // The packet's own direction is src -> dst; the reverse swaps them.
    let e0: boolean, e1: boolean, c0: boolean, c1: boolean;
    if (t.fam === 4) {
      const fwd = p.egress4(t.s0, t.d0, proto, sport, dport);
      const rev = p.egress4(t.d0, t.s0, proto, dport, sport);
      const cf = p.confined4(t.d0);
      const cr = p.confined4(t.s0);
      [e0, e1, c0, c1] = dir === 0 ? [fwd, rev, cf, cr] : [rev, fwd, cr, cf];
    } else {
      const fwd = p.egress6(t.s0, t.s1, t.s2, t.s3, t.d0, t.d1, t.d2, t.d3, proto);
      const rev = p.egress6(t.d0, t.d1, t.d2, t.d3, t.s0, t.s1, t.s2, t.s3, proto);
      const cf = p.confined6(t.d0);
      const cr = p.confined6(t.s0);
      [e0, e1, c0, c1] = dir === 0 ? [fwd, rev, cf, cr] : [rev, fwd, cr, cf];
    }
    this.initDir[f] = dir;
    this.flags[f] = (e0 ? F_EGRESS0 : 0) | (e1 ? F_EGRESS1 : 0) | (e0 || e1 ? F_HAS_EGRESS : 0) | (c0 ? F_CONFINED0 : 0) | (c1 ? F_CONFINED1 : 0);
    this.label[f] = LABEL_NONE;
    this.searched[f] = 0;
    this.count[f] = 0;
    this.replies[f] = 0;
    this.fCount[f] = 0;
    this.lastQHash[f] = 0;
    this.lastQRecord[f] = -1;
    this.names[f] = undefined;
    this.badNames[f] = undefined;
  }

  /** Reads one DNS message; returns true when it is a query for a name that must not leave. */
  private dnsMessage(buf: Buffer, msg: number, end: number, f: number, dir: number, index: number, ms: number): boolean {
    if (end - msg < 17) return false;
    const qd = (buf[msg + 4]! << 8) | buf[msg + 5]!;
    if (qd === 0) return false;
    this.label[f] = LABEL_DNS;
    const isResponse = (buf[msg + 2]! & 0x80) !== 0;
    const h = dnsQuestionHash(buf, msg, end);
    if (h === 0) return false;
    if (isResponse) {
      let r = this.lastQHash[f] === h ? this.lastQRecord[f]! : -1;
      if (r < 0) r = this.dnsByKey.get(f * 4294967296 + h) ?? -1;
      if (r >= 0 && this.dns[r]!.dir !== dir) this.dns[r]!.answered = true;
      return false;
    }
    const flags = this.flags[f]!;
    if (this.lastQHash[f] === h) {
      const r = this.lastQRecord[f]!;
      if (r >= 0) this.dns[r]!.count++;
      return (flags & F_LAST_Q_BAD) !== 0;
    }
    const name = dnsQuestionName(buf, msg, end);
    if (name === null) return false;
    const key = f * 4294967296 + h;
    let r = this.dnsByKey.get(key);
    if (r === undefined) {
      r = this.dns.length;
      this.dns.push({ packet: index, ms, name, flow: f, dir, answered: false, count: 1 });
      this.dnsByKey.set(key, r);
    } else this.dns[r]!.count++;
    this.lastQHash[f] = h;
    this.lastQRecord[f] = r;
    if (this.names[f] === undefined) this.names[f] = name;
    // A resolver would carry the name out, unless the query cannot leave the link (mDNS, LLMNR).
    const confined = (flags & (dir === 0 ? F_CONFINED0 : F_CONFINED1)) !== 0;
    const bad = !confined && !this.policy.nameAllowed(name);
    if (bad) {
      this.flags[f] = flags | F_LAST_Q_BAD | F_DNSNAME;
      if (this.badNames[f] === undefined) this.badNames[f] = name;
    } else this.flags[f] = flags & ~F_LAST_Q_BAD;
    return bad;
  }

  private searchName(buf: Buffer, pay: number, len: number, f: number, seq: number): void {
    this.searched[f]++;
    const pending = this.pendingHello.get(f);
    if (pending) {
      if (seq !== pending.nextSeq) return;
      const take = Math.min(len, pending.need - pending.len);
      buf.copy(pending.buf, pending.len, pay, pay + take);
      pending.len += take;
      pending.nextSeq = (seq + len) >>> 0;
      if (pending.len >= pending.need) {
        this.pendingHello.delete(f);
        const sni = tlsServerName(pending.buf, 0, pending.need);
        if (sni) this.names[f] = sni;
      }
      return;
    }
    const need = tlsClientHelloRecordLength(buf, pay, len);
    if (need > 0) {
      this.label[f] = LABEL_TLS;
      if (need <= len) {
        const sni = tlsServerName(buf, pay, need);
        if (sni) this.names[f] = sni;
      } else if (need <= MAX_HELLO) {
        if (this.pendingHello.size >= MAX_PENDING_HELLOS) {
          const oldest = this.pendingHello.keys().next().value;
          if (oldest !== undefined) this.pendingHello.delete(oldest);
        }
        const b = Buffer.allocUnsafe(need);
        buf.copy(b, 0, pay, pay + len);
        this.pendingHello.set(f, { buf: b, len, need, nextSeq: (seq + len) >>> 0 });
      }
      return;
    }
    if (looksLikeHttpRequest(buf, pay, len)) {
      this.label[f] = LABEL_HTTP;
      const host = httpHost(buf, pay, len);
      if (host) this.names[f] = host;
    }
  }

  private addr(f: number, end: number): string {
    const a = this.t.addr;
    const k = f * 8 + end * 4;
    return this.t.famOf[f] === 4 ? formatIPv4(a[k]!) : formatIPv6(a[k]!, a[k + 1]!, a[k + 2]!, a[k + 3]!);
  }

  private protocolOf(f: number): string {
    const l = this.label[f]!;
    if (l !== LABEL_NONE) return LABELS[l]!;
    const p = this.t.protoOf[f]!;
    return p === P_TCP ? 'tcp' : p === P_UDP ? 'udp' : p === P_ICMP ? 'icmp' : p === P_ICMPV6 ? 'icmpv6' : String(p);
  }

  /** Turns this file's flows into summaries, findings and DNS query records. */
  finish(catalogue: EndpointCatalogue, flows: FlowSummary[], findings: NetworkFinding[], dnsQueries: DnsQuery[]): void {
    const t = this.t;
    const addrCache = new Map<number, [string, string]>();
    const ends = (f: number): [string, string] => {
      let e = addrCache.get(f);
      if (!e) addrCache.set(f, (e = [this.addr(f, 0), this.addr(f, 1)]));
      return e;
    };
    for (let f = 0; f < t.size; f++) {
      if (this.count[f] === 0) continue; // only canaries
      const [a, b] = ends(f);
      const init = this.initDir[f]!;
      const portA = t.ports[f * 2]!;
      const portB = t.ports[f * 2 + 1]!;
      const proto = t.protoOf[f]!;
      const hasPorts = proto === P_TCP || proto === P_UDP;
      const protocol = this.protocolOf(f);
      const name = this.names[f];
      const flow: FlowSummary = {
        file: this.fileLabel,
        src: init === 0 ? a : b,
        dst: init === 0 ? b : a,
        protocol,
        packet: this.first[f]!,
        lastPacket: this.last[f]!,
        count: this.count[f]!,
        firstMs: this.firstMs[f]!,
        lastMs: this.lastMs[f]!,
        inLab: this.fCount[f] === 0,
        replies: this.replies[f]!,
      };
      if (hasPorts) {
        flow.srcPort = init === 0 ? portA : portB;
        flow.dstPort = init === 0 ? portB : portA;
      }
      if (name !== undefined) flow.name = name;
      flows.push(flow);
      if (this.fCount[f] === 0) continue;
      const d = this.fDir[f]!;
      const src = d === 0 ? a : b;
      const dst = d === 0 ? b : a;
      const flags = this.flags[f]!;
      const egress = (flags & F_HAS_EGRESS) !== 0;
      const fname = egress ? name : (this.badNames[f] ?? name);
      const answered = this.replies[f]! > 0;
      const reason = !answered ? 'attempt' : egress ? 'egress' : 'dns-name';
      const time = new Date(this.fFirstMs[f]!).toISOString();
      const finding: NetworkFinding = {
        kind: 'network',
        file: this.fileLabel,
        packet: this.fFirst[f]!,
        lastPacket: this.fLast[f]!,
        count: this.fCount[f]!,
        time,
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
      const endpoint = catalogue.match(fname, dst) ?? catalogue.match(undefined, src);
      if (endpoint) finding.endpoint = endpoint;
      const where = hasPorts ? `${src}:${finding.srcPort} -> ${dst}:${finding.dstPort}` : `${src} -> ${dst}`;
      const what =
        reason === 'dns-name'
          ? `DNS query for ${fname} (a resolver would carry it out of the lab)`
          : `${protocol.toUpperCase()} ${where}${fname ? ` (${fname})` : ''} leaves the lab`;
      const attempt = !answered ? (proto === P_TCP ? '; unanswered SYN/attempt' : '; no reply seen (attempt)') : '';
      const times = finding.count > 1 ? `, ${finding.count} packets #${finding.packet}..#${finding.lastPacket}` : `, packet #${finding.packet}`;
      finding.summary = `${reason === 'dns-name' ? `${what}: ${where}` : what}${times}${attempt}${endpoint ? `; known endpoint: ${endpoint.vendor} ${endpoint.service}` : ''}`;
      findings.push(finding);
    }
    for (const q of this.dns) {
      const [a, b] = ends(q.flow);
      dnsQueries.push({
        file: this.fileLabel,
        packet: q.packet,
        time: new Date(q.ms).toISOString(),
        name: q.name,
        src: q.dir === 0 ? a : b,
        dst: q.dir === 0 ? b : a,
        answered: q.answered,
        count: q.count,
      });
    }
  }
}

/** Scans captures and judges every packet against the lab's egress policy. */
export async function scanCaptures(files: string[], opts: ScanOptions): Promise<NetworkScan> {
  const policy = new EgressPolicy(opts.lab, opts.labNames ?? []);
  const catalogue = opts.catalogue ?? loadCatalogue();
  const result: NetworkScan = {
    verdict: 'PASS',
    analyzerVersion: ANALYZER_VERSION,
    findings: [],
    flows: [],
    dnsQueries: [],
    canaries: [],
    damage: [],
    files: [],
    packets: 0,
  };
  for (const file of files) {
    const label = opts.baseDir ? path.relative(opts.baseDir, file) : file;
    const scanner = new FileScanner(policy, opts, label);
    const info = await readCapture(file, scanner.callback);
    scanner.finish(catalogue, result.flows, result.findings, result.dnsQueries);
    result.canaries.push(...scanner.canaries);
    result.packets += info.packets;
    const summary: FileSummary = {
      file: label,
      format: info.format,
      packets: info.packets,
      linkTypes: info.linkTypes,
      nonIp: scanner.nonIp,
      radiotap: scanner.radiotap,
      undecoded: scanner.undecoded,
      malformed: scanner.malformed,
    };
    if (info.firstMs !== undefined) summary.firstMs = info.firstMs;
    if (info.lastMs !== undefined) summary.lastMs = info.lastMs;
    if (info.ifDrops !== undefined) summary.ifDrops = info.ifDrops;
    result.files.push(summary);
    if (info.damage) result.damage.push({ file: label, offset: info.damage.offset, reason: info.damage.reason });
    if (scanner.undecoded > 0) {
      result.damage.push({
        file: label,
        offset: scanner.undecodedFirstOffset,
        reason: `${scanner.undecoded} frames of link type ${[...scanner.undecodedTypes].join(', ')} are not decoded, so they were not judged`,
      });
    }
    if (info.ifDrops) {
      result.damage.push({ file: label, offset: -1, reason: `the capture's statistics report ${info.ifDrops} packets dropped by the interface` });
    }
  }
  result.verdict = result.findings.length > 0 ? 'FAIL' : result.damage.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  return result;
}
