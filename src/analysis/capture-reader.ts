/**
 * Streaming pcap / pcapng reader.
 *
 * Hand-written on purpose: node_pcap's offline reader loads a whole file synchronously and its
 * decoder runs under 1M packets/s, while captures of hours hold tens of millions of packets.
 * This reader walks records in one reused 8 MiB buffer and hands each packet to a callback
 * through one reused view object (no allocation per packet), so memory stays flat however
 * large the file is and a plain loop keeps up with `tcpdump -r`.
 *
 * Formats (from the published specs: libpcap file format, and the pcapng IETF draft):
 * - pcap: both byte orders, microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magic.
 * - pcapng: several sections (each with its own byte order), several interfaces per section,
 *   if_tsresol / if_tsoffset, EPB, SPB, obsolete PB; ISB drop counters are summed.
 * A damaged or truncated file is read up to the damage, which is reported with its byte offset.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CaptureInputError } from './errors.js';
import { releaseBuffers } from './release.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** One packet. The object and its `buf` are reused: valid only during the callback. */
export interface CapturePacket {
  /** 1-based frame number within the file (as Wireshark numbers frames). */
  index: number;
  /** Epoch milliseconds (fractional). */
  timeMs: number;
  /** Whole seconds since the epoch, and nanoseconds within that second. */
  sec: number;
  nsec: number;
  linkType: number;
  /** pcapng interface id (0 for pcap). */
  interfaceId: number;
  /** Buffer holding the frame at [offset, offset + caplen). Do not keep it. */
  buf: Buffer;
  offset: number;
  caplen: number;
  /** Length on the wire. */
  origLen: number;
  /** Byte offset of the packet's record (or block) in the file. */
  fileOffset: number;
  /** A view of the frame bytes (allocates a view; for callers off the hot path). */
  frame(): Buffer;
}

export interface CaptureDamageInfo {
  offset: number;
  reason: string;
}

export interface CaptureInfo {
  format: CaptureFormat;
  packets: number;
  firstMs?: number;
  lastMs?: number;
  /** Link types seen (pcap: the header's; pcapng: each interface's). */
  linkTypes: number[];
  /** Sum over interfaces of the last Interface Statistics Block's isb_ifdrop (pcapng). */
  ifDrops?: number;
  /** Set when reading stopped at damage (truncation, bad block length...). */
  damage?: CaptureDamageInfo;
  /** True when the callback asked to stop. */
  stopped: boolean;
}

export interface ReadCaptureOptions {
  /** Read buffer size (default 8 MiB). */
  bufferSize?: number;
  /**
   * Free the read buffers when the file is read (release.ts) rather than at V8's next full
   * collection. Only for a caller whose callback keeps no view of a packet's bytes (every view
   * over them is empty afterwards): the flow scan (scanCaptures) copies what it keeps.
   */
  release?: boolean;
}

/** Return `false` to stop reading. */
export type PacketCallback = (p: CapturePacket) => boolean | void;

const DEFAULT_BUFFER = 8 * 1024 * 1024;
/**
 * libpcap's MAXIMUM_SNAPLEN: a pcap record longer than this is damage, whatever snaplen the file
 * header claims (libpcap refuses such records too). The header's snaplen is the file's word, and
 * a hostile file says 4 GiB: trusting it made the reader allocate that much for one record.
 */
export const MAX_RECORD = 262144;
/** Largest pcapng block we accept (the buffer grows to it once if needed). */
const MAX_BLOCK = 64 * 1024 * 1024;

/** One reusable packet record (the reader hands the same object to every callback; pcap-follower.ts too). */
export class PacketView implements CapturePacket {
  index = 0;
  timeMs = 0;
  sec = 0;
  nsec = 0;
  linkType = 0;
  interfaceId = 0;
  buf: Buffer = Buffer.alloc(0);
  offset = 0;
  caplen = 0;
  origLen = 0;
  fileOffset = 0;
  frame(): Buffer {
    return this.buf.subarray(this.offset, this.offset + this.caplen);
  }
}

/**
 * Buffered sequential reader over a file handle: `ensure(n)` makes n bytes available at `pos`.
 * While the caller walks one buffer, the next chunk is already being read into a second one
 * (read-ahead), so decoding and reading overlap.
 */
class Window {
  buf: Buffer;
  /** Index in buf of the next unread byte. */
  pos = 0;
  /** Bytes valid in buf. */
  end = 0;
  /** File offset of buf[0]. */
  base = 0;
  eof = false;
  private spare: Buffer;
  /** Room kept in front of read-ahead data for the unread tail of the previous buffer. */
  private readonly head: number;
  private prefetch: { promise: Promise<number>; at: number; into: Buffer } | null = null;
  constructor(
    private readonly fh: FileHandle,
    size: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.spare = Buffer.allocUnsafe(size);
    this.head = Math.min(1 << 20, size >> 2);
  }
  get fileOffset(): number {
    return this.base + this.pos;
  }
  private startPrefetch(at: number): void {
    if (this.eof) return;
    const into = this.spare;
    const promise = this.fh.read(into, this.head, into.length - this.head, at).then((r) => r.bytesRead);
    // A failed read-ahead is reported by the synchronous read that replaces it.
    promise.catch(() => undefined);
    this.prefetch = { promise, at, into };
  }
  /** Waits for a read-ahead in flight (before the file is closed). */
  async settle(): Promise<void> {
    const pf = this.prefetch;
    this.prefetch = null;
    // Only waits: a failed read-ahead is not used (startPrefetch), and the file is closing.
    if (pf) await pf.promise.catch(() => 0);
  }
  /** True when n bytes are available at pos (reading more if needed); false at end of file. */
  async ensure(n: number): Promise<boolean> {
    if (this.end - this.pos >= n) return true;
    const rem = this.end - this.pos;
    const fileEnd = this.base + this.end;
    const pf = this.prefetch;
    if (pf && pf.at === fileEnd && rem <= this.head && n <= this.buf.length) {
      this.prefetch = null;
      let got = 0;
      try {
        got = await pf.promise;
      } catch {
        got = -1; // read again below, where the error surfaces
      }
      if (got >= 0) {
        const next = pf.into;
        this.buf.copy(next, this.head - rem, this.pos, this.end);
        this.spare = this.buf;
        this.buf = next;
        this.base = fileEnd - this.head;
        this.pos = this.head - rem;
        this.end = this.head + got;
        if (got === 0) this.eof = true;
        else this.startPrefetch(fileEnd + got);
        if (this.end - this.pos >= n || this.eof) return this.end - this.pos >= n;
      }
    } else if (pf) {
      await this.settle();
    }
    await this.settle();
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.buf.copy(bigger, 0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
      this.buf = bigger;
      this.spare = Buffer.allocUnsafe(bigger.length);
    } else if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    while (this.end < n && !this.eof) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    if (!this.eof) this.startPrefetch(this.base + this.end);
    return this.end - this.pos >= n;
  }
  /** Frees both buffers now (release.ts), once no read is in flight (settle()); the window must not be read again. */
  release(): void {
    releaseBuffers(this.buf, this.spare);
  }
  get available(): number {
    return this.end - this.pos;
  }
}

/**
 * Reads `file` and calls `onPacket` for each packet, in file order. Throws CaptureInputError
 * when the file is missing or is not a capture; damage is reported in the result, not thrown.
 */
export async function readCapture(file: string, onPacket: PacketCallback, opts: ReadCaptureOptions = {}): Promise<CaptureInfo> {
  let fh: FileHandle;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new CaptureInputError('AIRLOCK_ANALYSIS_NO_FILE', `${file}: not a regular file`);
    fh = await open(file, 'r');
  } catch (e) {
    if (e instanceof CaptureInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CaptureInputError('AIRLOCK_ANALYSIS_NO_FILE', `${file}: cannot open capture (${code ?? String(e)})`, { cause: e });
  }
  const w = new Window(fh, opts.bufferSize ?? DEFAULT_BUFFER);
  try {
    if (!(await w.ensure(4))) {
      return {
        format: 'pcap',
        packets: 0,
        linkTypes: [],
        stopped: false,
        damage: { offset: w.available, reason: w.available === 0 ? 'empty file (no capture header)' : 'truncated capture header' },
      };
    }
    const m = w.buf.readUInt32LE(w.pos);
    if (m === 0x0a0d0d0a) return await readPcapng(file, w, onPacket);
    if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return await readPcap(w, onPacket, m);
    throw new CaptureInputError(
      'AIRLOCK_ANALYSIS_NOT_CAPTURE',
      `${file}: not a pcap or pcapng capture (starts with ${w.buf.subarray(w.pos, w.pos + 4).toString('hex')})`,
    );
  } finally {
    await w.settle();
    await fh.close();
    if (opts.release) w.release();
  }
}

/**
 * Reading state shared by the async outer loop (which only waits for more bytes) and the
 * synchronous inner loops (which walk every complete record in the buffer). Keeping the hot
 * loop synchronous keeps its numbers in registers: doubles held across an `await` are boxed.
 */
interface RunState {
  index: number;
  first: number;
  stopped: boolean;
  damage?: CaptureDamageInfo;
}

/** Walks complete pcap records; returns the bytes needed at `w.pos` to go on (0: stop). */
function pcapRun(w: Window, p: PacketView, st: RunState, le: boolean, nano: boolean, limit: number, onPacket: PacketCallback): number {
  const buf = w.buf;
  const end = w.end;
  let at = w.pos;
  p.buf = buf;
  for (;;) {
    if (end - at < 16) {
      w.pos = at;
      return 16;
    }
    let sec: number, frac: number, incl: number, orig: number;
    if (le) {
      sec = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
      frac = buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24);
      incl = buf[at + 8]! | (buf[at + 9]! << 8) | (buf[at + 10]! << 16) | (buf[at + 11]! << 24);
      orig = buf[at + 12]! | (buf[at + 13]! << 8) | (buf[at + 14]! << 16) | (buf[at + 15]! << 24);
    } else {
      sec = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
      frac = (buf[at + 4]! << 24) | (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!;
      incl = (buf[at + 8]! << 24) | (buf[at + 9]! << 16) | (buf[at + 10]! << 8) | buf[at + 11]!;
      orig = (buf[at + 12]! << 24) | (buf[at + 13]! << 16) | (buf[at + 14]! << 8) | buf[at + 15]!;
    }
    sec >>>= 0;
    frac >>>= 0;
    incl >>>= 0;
    orig >>>= 0;
    if (incl > limit) {
      w.pos = at;
      st.damage = { offset: w.base + at, reason: `record length ${incl} exceeds the maximum ${limit} (damaged record header)` };
      return 0;
    }
    if (end - at < 16 + incl) {
      w.pos = at;
      return 16 + incl;
    }
    const index = ++st.index;
    const nsec = nano ? frac : frac * 1000;
    const ms = sec * 1000 + nsec / 1e6;
    p.index = index;
    p.sec = sec;
    p.nsec = nsec;
    p.timeMs = ms;
    p.offset = at + 16;
    p.caplen = incl;
    p.origLen = orig;
    p.fileOffset = w.base + at;
    at += 16 + incl;
    if (index === 1) st.first = ms;
    if (onPacket(p) === false) {
      st.stopped = true;
      w.pos = at;
      return 0;
    }
  }
}

async function readPcap(w: Window, onPacket: PacketCallback, magic: number): Promise<CaptureInfo> {
  // Magic read little-endian: a1b2c3d4 / a1b23c4d means the file is little-endian.
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const info: CaptureInfo = { format: 'pcap', packets: 0, linkTypes: [], stopped: false };
  if (!(await w.ensure(24))) {
    info.damage = { offset: w.base + w.end, reason: 'truncated pcap file header' };
    return info;
  }
  const b0 = w.buf;
  const network = (le ? b0.readUInt32LE(w.pos + 20) : b0.readUInt32BE(w.pos + 20)) & 0x0fffffff;
  info.linkTypes.push(network & 0xffff);
  w.pos += 24;
  const limit = MAX_RECORD;
  const p = new PacketView();
  p.linkType = network & 0xffff;
  const st: RunState = { index: 0, first: 0, stopped: false };
  for (;;) {
    const need = pcapRun(w, p, st, le, nano, limit, onPacket);
    if (need === 0) break;
    if (!(await w.ensure(need))) {
      if (w.available > 0) {
        info.damage = {
          offset: w.fileOffset,
          reason: need === 16 ? `truncated record header (${w.available} of 16 bytes)` : `truncated packet record (${w.available} of ${need} bytes)`,
        };
      }
      break;
    }
  }
  if (st.damage) info.damage = st.damage;
  info.stopped = st.stopped;
  info.packets = st.index;
  if (st.index > 0) {
    info.firstMs = st.first;
    info.lastMs = p.timeMs; // the view still holds the last packet's time
  }
  return info;
}

interface Iface {
  linkType: number;
  snaplen: number;
  /** Units per second of the timestamps. */
  unitsPerSec: number;
  offsetSec: number;
  drops: number;
}

interface NgState extends RunState {
  le: boolean;
  firstBlock: boolean;
  ifaces: Iface[];
  allIfaces: Iface[];
  sawIsb: boolean;
  file: string;
  linkTypes: number[];
}

/** Walks complete pcapng blocks; returns the bytes needed at `w.pos` to go on (0: stop). */
function pcapngRun(w: Window, p: PacketView, st: NgState, onPacket: PacketCallback): number {
  for (;;) {
    const b = w.buf;
    const at = w.pos;
    if (w.end - at < 12) return 12;
    const rawType = b.readUInt32LE(at);
    if (rawType === 0x0a0d0d0a) {
      // Section Header Block: its byte-order magic decides this section's byte order.
      const bom = b.readUInt32LE(at + 8);
      if (bom === 0x1a2b3c4d) st.le = true;
      else if (bom === 0x4d3c2b1a) st.le = false;
      else {
        if (st.firstBlock) throw new CaptureInputError('AIRLOCK_ANALYSIS_NOT_CAPTURE', `${st.file}: pcapng section header with a bad byte-order magic`);
        st.damage = { offset: w.fileOffset, reason: 'section header block with a bad byte-order magic' };
        return 0;
      }
    } else if (st.firstBlock) {
      throw new CaptureInputError('AIRLOCK_ANALYSIS_NOT_CAPTURE', `${st.file}: pcapng file does not start with a section header`);
    }
    st.firstBlock = false;
    const le = st.le;
    const type = le ? b.readUInt32LE(at) : b.readUInt32BE(at);
    const len = le ? b.readUInt32LE(at + 4) : b.readUInt32BE(at + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
      st.damage = { offset: w.fileOffset, reason: `bad block length ${len} (block type 0x${type.toString(16)})` };
      return 0;
    }
    if (w.end - at < len) return len;
    if ((le ? b.readUInt32LE(at + len - 4) : b.readUInt32BE(at + len - 4)) !== len) {
      st.damage = { offset: w.fileOffset, reason: `block trailer length does not match its header (block type 0x${type.toString(16)})` };
      return 0;
    }
    const blockOffset = w.base + at;
    w.pos = at + len;
    if (!pcapngBlock(b, at, len, type, blockOffset, p, st, onPacket)) return 0;
  }
}

/** Handles one complete block; false to stop (damage or the callback asked). */
function pcapngBlock(b: Buffer, at: number, len: number, type: number, blockOffset: number, p: PacketView, st: NgState, onPacket: PacketCallback): boolean {
  const le = st.le;
  const rd32 = le ? (o: number): number => b.readUInt32LE(o) : (o: number): number => b.readUInt32BE(o);
  const rd16 = le ? (o: number): number => b.readUInt16LE(o) : (o: number): number => b.readUInt16BE(o);
  const bodyEnd = at + len - 4;
  if (type === 6 || type === 2 || type === 3) {
    let ifId: number, tsHi: number, tsLo: number, cap: number, orig: number, data: number;
    if (type === 6 || type === 2) {
      if (len < 32) {
        st.damage = { offset: blockOffset, reason: `${type === 6 ? 'enhanced ' : ''}packet block too short` };
        return false;
      }
      ifId = type === 6 ? rd32(at + 8) : rd16(at + 8);
      tsHi = rd32(at + 12);
      tsLo = rd32(at + 16);
      cap = rd32(at + 20);
      orig = rd32(at + 24);
      data = at + 28;
    } else {
      if (len < 16) {
        st.damage = { offset: blockOffset, reason: 'simple packet block too short' };
        return false;
      }
      ifId = 0;
      tsHi = 0;
      tsLo = 0;
      orig = rd32(at + 8);
      data = at + 12;
      cap = Math.min(orig, bodyEnd - data);
      const i0 = st.ifaces[0];
      if (i0 && i0.snaplen > 0) cap = Math.min(cap, i0.snaplen);
    }
    const iface = st.ifaces[ifId];
    if (!iface) {
      st.damage = { offset: blockOffset, reason: `packet for undeclared interface ${ifId}` };
      return false;
    }
    if (data + cap > bodyEnd) {
      st.damage = { offset: blockOffset, reason: `captured length ${cap} overruns its block` };
      return false;
    }
    const index = ++st.index;
    p.index = index;
    timestamp(p, tsHi, tsLo, iface);
    p.linkType = iface.linkType;
    p.interfaceId = ifId;
    p.buf = b;
    p.offset = data;
    p.caplen = cap;
    p.origLen = orig;
    p.fileOffset = blockOffset;
    if (index === 1) st.first = p.timeMs;
    if (onPacket(p) === false) {
      st.stopped = true;
      return false;
    }
  } else if (type === 0x0a0d0d0a) {
    st.ifaces = [];
  } else if (type === 1) {
    if (len < 20) {
      st.damage = { offset: blockOffset, reason: 'interface description block too short' };
      return false;
    }
    const iface: Iface = { linkType: rd16(at + 8), snaplen: rd32(at + 12), unitsPerSec: 1e6, offsetSec: 0, drops: 0 };
    let o = at + 16;
    while (o + 4 <= bodyEnd) {
      const code = rd16(o);
      const olen = rd16(o + 2);
      if (code === 0) break;
      if (o + 4 + olen > bodyEnd) break;
      if (code === 9 && olen >= 1) {
        const v = b[o + 4]!;
        iface.unitsPerSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === 14 && olen >= 8) {
        const hi = rd32(o + 4 + (le ? 4 : 0));
        const lo = rd32(o + 4 + (le ? 0 : 4));
        iface.offsetSec = (hi | 0) * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    st.ifaces.push(iface);
    st.allIfaces.push(iface);
    if (!st.linkTypes.includes(iface.linkType)) st.linkTypes.push(iface.linkType);
  } else if (type === 5) {
    // Interface Statistics Block: keep the last isb_ifdrop per interface.
    const iface = st.ifaces[rd32(at + 8)];
    let o = at + 20;
    while (iface && o + 4 <= bodyEnd) {
      const code = rd16(o);
      const olen = rd16(o + 2);
      if (code === 0 || o + 4 + olen > bodyEnd) break;
      if (code === 5 && olen >= 8) {
        const hi = rd32(o + 4 + (le ? 4 : 0));
        const lo = rd32(o + 4 + (le ? 0 : 4));
        iface.drops = hi * 4294967296 + lo;
        st.sawIsb = true;
      }
      o += 4 + ((olen + 3) & ~3);
    }
  }
  // Other blocks (name resolution, custom, decryption secrets...) are skipped.
  return true;
}

async function readPcapng(file: string, w: Window, onPacket: PacketCallback): Promise<CaptureInfo> {
  const info: CaptureInfo = { format: 'pcapng', packets: 0, linkTypes: [], stopped: false };
  const p = new PacketView();
  const st: NgState = { index: 0, first: 0, stopped: false, le: true, firstBlock: true, ifaces: [], allIfaces: [], sawIsb: false, file, linkTypes: info.linkTypes };
  for (;;) {
    const need = pcapngRun(w, p, st, onPacket);
    if (need === 0) break;
    if (!(await w.ensure(need))) {
      if (w.available > 0) {
        info.damage = {
          offset: w.fileOffset,
          reason: need === 12 ? `truncated block header (${w.available} bytes)` : `truncated block (${w.available} of ${need} bytes, block type 0x${blockType(w, st.le).toString(16)})`,
        };
      }
      break;
    }
  }
  if (st.damage) info.damage = st.damage;
  info.stopped = st.stopped;
  info.packets = st.index;
  if (st.index > 0) {
    info.firstMs = st.first;
    info.lastMs = p.timeMs; // the view still holds the last packet's time
  }
  if (st.sawIsb) info.ifDrops = st.allIfaces.reduce((s, i) => s + i.drops, 0);
  return info;
}

function blockType(w: Window, le: boolean): number {
  return le ? w.buf.readUInt32LE(w.pos) : w.buf.readUInt32BE(w.pos);
}

/** Splits a 64-bit timestamp (hi, lo) in the interface's units into seconds and nanoseconds exactly. */
function timestamp(p: PacketView, hi: number, lo: number, iface: Iface): void {
  const u = iface.unitsPerSec;
  let sec: number, nsec: number;
  if (u === 1e6 && hi < 0x200000) {
    // Exact in a double: the common microsecond case.
    const v = hi * 4294967296 + lo;
    sec = Math.floor(v / 1e6);
    nsec = (v - sec * 1e6) * 1000;
  } else {
    // Long division by 16-bit limbs keeps every intermediate below 2^53.
    let r = 0;
    let q = 0;
    const limbs0 = hi >>> 16;
    const limbs1 = hi & 0xffff;
    const limbs2 = lo >>> 16;
    const limbs3 = lo & 0xffff;
    let cur = limbs0;
    let d = Math.floor(cur / u);
    r = cur - d * u;
    q = d;
    cur = r * 65536 + limbs1;
    d = Math.floor(cur / u);
    r = cur - d * u;
    q = q * 65536 + d;
    cur = r * 65536 + limbs2;
    d = Math.floor(cur / u);
    r = cur - d * u;
    q = q * 65536 + d;
    cur = r * 65536 + limbs3;
    d = Math.floor(cur / u);
    r = cur - d * u;
    q = q * 65536 + d;
    sec = q;
    nsec = u === 1e9 ? r : Math.floor((r * 1e9) / u);
  }
  sec += iface.offsetSec;
  p.sec = sec;
  p.nsec = nsec;
  p.timeMs = sec * 1000 + nsec / 1e6;
}
