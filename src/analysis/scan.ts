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
import { FlowTable, R, D, C, CD, Layout } from './flow-table.js';
import { EgressPolicy } from './egress-policy.js';
import { formatIPv4, formatIPv6 } from './address.js';
import {
  dnsQuestionIs,
  dnsQuestionNameInterned,
  httpHost,
  isQuicInitial,
  looksLikeHttpRequest,
  tlsClientHelloRecordLength,
  tlsServerName,
} from './app-names.js';
import { CANARY_MAGIC, CANARY_PORT, decodeCanary, type Canary } from './canary.js';
import { loadCatalogue, type EndpointCatalogue, type EndpointMatch } from './catalogue.js';
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
  private readonly fragments = new Map<string, number>();
  readonly canaries: SeenCanary[] = [];
  /** policy.nameAllowed() per name (bounded): most flows ask for names asked before. */
  private readonly allowedNames = new Map<string, boolean>();
  /** Record bases of flows holding a finding, in the order they got their first one. */
  private flagged: number[] = [];
  /** Flows that carried at least one judged packet. */
  private counted = 0;

  nonIp = 0;
  radiotap = 0;
  undecoded = 0;
  undecodedFirstOffset = -1;
  undecodedTypes = new Set<number>();
  malformed = 0;

  /** Time and frame number of the packet being judged (fields, so doubles are not boxed per call). */
  private ms = 0;
  private index = 0;
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly secret: string | undefined;
  private readonly onRadiotap: ScanOptions['onRadiotap'];
  readonly callback: (p: CapturePacket) => void;

  constructor(
    private readonly policy: EgressPolicy,
    opts: ScanOptions,
    private readonly fileLabel: string,
  ) {
    this.fromMs = opts.fromMs ?? -Infinity;
    this.toMs = opts.toMs ?? Infinity;
    this.secret = opts.canarySecret;
    this.onRadiotap = opts.onRadiotap;
    this.callback = (p) => this.onPacket(p);
  }

  private onPacket(p: CapturePacket): void {
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
        // BSD loopback: a 4-byte address family, host order (0) or network order (108)
        if (end - off < 4) {
          this.malformed++;
          return;
        }
        const fam = buf[off]! !== 0 ? buf[off]! : buf[off + 3]!;
        et = fam === 2 ? 0x0800 : fam === 24 || fam === 28 || fam === 30 ? 0x86dd : 0;
        off += 4;
        break;
      }
      case 127:
        this.radiotap++;
        if (this.onRadiotap) this.onRadiotap(p, this.fileLabel);
        return;
      default:
        this.undecoded++;
        if (this.undecodedFirstOffset < 0) this.undecodedFirstOffset = p.fileOffset;
        this.undecodedTypes.add(p.linkType);
        return;
    }
    const ms = p.timeMs;
    if (ms < this.fromMs || ms >= this.toMs) return;
    this.ms = ms;
    this.index = p.index;
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
                const c = t.c32;
                const k = known + C.A123;
                this.account(known, t.s0 === t.u32[known + R.A0] && t.s1 === c[k] && t.s2 === c[k + 1] && t.s3 === c[k + 2] ? 0 : 1);
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
        pay = l4 + (buf[l4 + 12]! >> 4) * 4;
        if (pay > end) pay = end;
      } else if (proto === P_UDP && end - l4 >= 8) {
        sport = (buf[l4]! << 8) | buf[l4 + 1]!;
        dport = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
        const ulen = (buf[l4 + 4]! << 8) | buf[l4 + 5]!;
        if (ulen >= 8 && l4 + ulen < end) end = l4 + ulen;
        pay = l4 + 8;
      }
    }
    let r: number;
    if (t.fam === 4) r = t.lookup4(t.s0, t.d0, proto, sport, dport);
    else {
      t.sp = sport;
      t.dp = dport;
      r = t.lookup();
    }
    const dir = t.dir;
    const u = t.u32;
    if (t.created) this.initFlow(r, dir, proto, sport, dport);
    if (firstFragmentKey !== null) {
      if (this.fragments.size > 65536) this.fragments.clear();
      this.fragments.set(firstFragmentKey, r);
    }
    // Canaries: never findings when they carry a valid mark under this run's secret.
    if (this.secret !== undefined && proto === P_UDP && dport === CANARY_PORT && end - pay > CANARY_MAGIC.length && buf[pay] === 0x41) {
      const c = decodeCanary(this.secret, buf.subarray(pay, end));
      if (c) {
        this.canaries.push({ ...c, file: this.fileLabel, packet: p.index, timeMs: ms });
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
        } else if (u[r + R.LABEL] === LABEL_NONE && isQuicInitial(buf, pay, payLen)) u[r + R.LABEL] = LABEL_QUIC;
      } else if (proto === P_TCP) {
        if ((sport === 53 || dport === 53) && payLen > 14) {
          if (this.dnsMessage(buf, pay + 2, end, r, dir)) finding = true;
        } else if (dir === u[r + R.INIT_DIR] && u[r + R.SEARCHED]! < NAME_SEARCH_PACKETS && (u[r + R.FLAGS]! & F_NAMED) === 0) {
          this.searchName(buf, pay, payLen, r, seq);
        }
      }
    }
    this.touch(r, dir);
    if (finding) this.mark(r, dir);
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

  private initFlow(r: number, dir: number, proto: number, sport: number, dport: number): void {
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
    u[r + R.FLAGS] = (e0 ? F_EGRESS0 : 0) | (e1 ? F_EGRESS1 : 0) | (e0 || e1 ? F_HAS_EGRESS : 0) | (c0 ? F_CONFINED0 : 0) | (c1 ? F_CONFINED1 : 0);
  }

  private setName(r: number, name: string): void {
    this.names[r / Layout.STRIDE] = name;
    this.t.u32[r + R.FLAGS] = this.t.u32[r + R.FLAGS]! | F_NAMED;
  }

  /** Reads one DNS message; returns true when it is a query for a name that must not leave. */
  private dnsMessage(buf: Buffer, msg: number, end: number, r: number, dir: number): boolean {
    if (end - msg < 17) return false;
    const qd = (buf[msg + 4]! << 8) | buf[msg + 5]!;
    if (qd === 0) return false;
    const u = this.t.u32;
    u[r + R.LABEL] = LABEL_DNS;
    const isResponse = (buf[msg + 2]! & 0x80) !== 0;
    // Fast path: the same name as this flow's last query (checked byte for byte, not by hash,
    // so a crafted name cannot pass for an allowed one).
    const last = u[r + R.Q_RECORD]! - 1;
    if (last >= 0) {
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
    const f = r / Layout.STRIDE;
    const key = `${f} ${name}`;
    if (isResponse) {
      const rec = this.dnsByFlow.get(key);
      if (rec !== undefined && this.dns[rec]!.dir !== dir) this.dns[rec]!.answered = true;
      return false;
    }
    let rec = this.dnsByFlow.get(key);
    if (rec === undefined) {
      rec = this.dns.length;
      this.dns.push({ packet: this.index, ms: this.ms, name, flow: r, dir, answered: false, count: 1 });
      this.dnsByFlow.set(key, rec);
    } else this.dns[rec]!.count++;
    u[r + R.Q_RECORD] = rec + 1;
    if (this.names[f] === undefined) this.setName(r, name);
    // A resolver would carry the name out, unless the query cannot leave the link (mDNS, LLMNR).
    const flags = u[r + R.FLAGS]!;
    const confined = (flags & (dir === 0 ? F_CONFINED0 : F_CONFINED1)) !== 0;
    let allowed = this.allowedNames.get(name);
    if (allowed === undefined) {
      if (this.allowedNames.size >= 4096) this.allowedNames.clear();
      this.allowedNames.set(name, (allowed = this.policy.nameAllowed(name)));
    }
    const bad = !confined && !allowed;
    if (bad) {
      u[r + R.FLAGS] = flags | F_LAST_Q_BAD | F_DNSNAME;
      if (!this.badNames.has(f)) this.badNames.set(f, name);
    } else u[r + R.FLAGS] = flags & ~F_LAST_Q_BAD;
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
        if (sni) this.setName(r, sni);
      }
      return;
    }
    const need = tlsClientHelloRecordLength(buf, pay, len);
    if (need > 0) {
      u[r + R.LABEL] = LABEL_TLS;
      if (need <= len) {
        const sni = tlsServerName(buf, pay, need);
        if (sni) this.setName(r, sni);
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
    if (looksLikeHttpRequest(buf, pay, len)) {
      u[r + R.LABEL] = LABEL_HTTP;
      const host = httpHost(buf, pay, len);
      if (host) this.setName(r, host);
    }
  }

  /** IPv4 text per address (keys as int32, so they stay small integers). */
  private readonly v4Text = new Map<number, string>();

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

  /** Flow summaries of this file, built on demand from the compact flow records. */
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
      flows.push({
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
      });
    }
    return flows;
  }

  /** Number of flows (canary-only flows excluded). */
  flowCount(): number {
    return this.counted;
  }

  /** Turns this file's flagged flows into findings, and its DNS queries into records; drops per-scan state. */
  finish(catalogue: EndpointCatalogue, findings: NetworkFinding[], dnsQueries: DnsQuery[]): void {
    const t = this.t;
    const u = t.u32;
    const byName = new Map<string, EndpointMatch | undefined>();
    const byAddress = new Map<string, EndpointMatch | undefined>();
    const lookupName = (n: string | undefined): EndpointMatch | undefined => {
      if (n === undefined) return undefined;
      if (!byName.has(n)) byName.set(n, catalogue.match(n, undefined));
      return byName.get(n);
    };
    const lookupAddress = (a: string): EndpointMatch | undefined => {
      if (!byAddress.has(a)) byAddress.set(a, catalogue.match(undefined, a));
      return byAddress.get(a);
    };
    // Flagged flows in flow-table order (as a walk over all records would meet them), without
    // walking the hundreds of thousands of records that hold no finding.
    const flagged = Int32Array.from(this.flagged).sort();
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
      const endpoint = lookupName(fname) ?? lookupAddress(dst) ?? lookupAddress(src);
      if (endpoint) finding.endpoint = endpoint;
      const where = hasPorts ? `${src}:${finding.srcPort} -> ${dst}:${finding.dstPort}` : `${src} -> ${dst}`;
      const what = egress
        ? `${protocol.toUpperCase()} ${where}${fname ? ` (${fname})` : ''} leaves the lab`
        : `DNS query for ${fname} (a resolver would carry the name out of the lab): ${where}`;
      const attempt = !answered ? (proto === P_TCP ? '; no answer (unanswered SYN: an attempt)' : '; no reply seen (an attempt)') : '';
      const packets = fCount > 1 ? `, ${fCount} packets #${finding.packet}..#${finding.lastPacket}` : `, packet #${finding.packet}`;
      finding.summary = `${what}${packets}${attempt}${endpoint ? `; known endpoint: ${endpoint.vendor} ${endpoint.service}` : ''}`;
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
    // Only the flow records, names and the address cache stay (for flowSummaries()).
    this.dns.length = 0;
    this.dnsByFlow.clear();
    this.pendingHello.clear();
    this.fragments.clear();
    this.flagged = [];
    this.badNames.clear();
  }
}

/** Scans captures and judges every packet against the lab's egress policy. */
export async function scanCaptures(files: string[], opts: ScanOptions): Promise<NetworkScan> {
  const policy = new EgressPolicy(opts.lab, opts.labNames ?? []);
  const catalogue = opts.catalogue ?? loadCatalogue();
  // Flow summaries are built from the compact flow records on first access of `flows`
  // (hundreds of thousands of objects a caller may never look at).
  const perFile: FileScanner[] = [];
  let flows: FlowSummary[] | undefined;
  const result = {
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
  Object.defineProperty(result, 'flows', {
    enumerable: true,
    get: (): FlowSummary[] => (flows ??= perFile.flatMap((s) => s.flowSummaries())),
  });
  for (const file of files) {
    const label = opts.baseDir ? path.relative(opts.baseDir, file) : file;
    const scanner = new FileScanner(policy, opts, label);
    const info = await readCapture(file, scanner.callback);
    scanner.finish(catalogue, result.findings, result.dnsQueries);
    perFile.push(scanner);
    result.flowCount += scanner.flowCount();
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
