/**
 * Follows a classic pcap file while its writer (the capture child, src/devices/capture/
 * capture-child.ts) still appends to it: each poll() reads the bytes written since the last one
 * and hands every whole record to the callback. A record cut at the end of the file (the writer
 * is half way through it, or has not flushed the rest) is never read as a packet: it is left
 * where it is and read whole by a later poll.
 *
 * Hand-written for the same reason as capture-reader.ts (one reused buffer, one reused packet
 * view, no allocation per packet), but synchronous and bounded: a poll reads at most `maxBytes`,
 * so a live analyzer can take the file in slices between other work. Classic pcap only (both
 * byte orders, microsecond and nanosecond magic): the capture child writes nothing else; a pcapng
 * file is reported, not read (the post-run analysis reads it).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_RECORD, PacketView, type CapturePacket } from './capture-reader.js';

export interface FollowerStart {
  /** File offset of a record boundary to start at (after the 24-byte header). */
  offset: number;
  /** Frame number of the record there, less one. */
  index: number;
}

export interface PollResult {
  packets: number;
  /** More whole records are (or may be) waiting: the poll stopped at maxBytes. */
  more: boolean;
  /** The poll stopped at a record at or after `untilMs` (left for a later poll). */
  held: boolean;
}

/** Returns false to stop before the next record. */
export type FollowCallback = (p: CapturePacket) => void;

export class PcapFollower {
  private fd: number | undefined;
  private buf: Buffer;
  private readonly view = new PacketView();
  private le = true;
  private nano = false;
  private headerRead = false;
  /** File offset of the next record not yet handed out. */
  private pos = 0;
  private index = 0;
  /** Set when the file cannot be followed (not classic pcap, a damaged record header). */
  problem: string | undefined;
  lastMs: number | undefined;

  constructor(
    readonly file: string,
    start?: FollowerStart,
    bufferSize = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(bufferSize);
    if (start) {
      this.pos = start.offset;
      this.index = start.index;
    }
  }

  /** Offset of the next unread record, and the frame number of the last record read. */
  get position(): FollowerStart {
    return { offset: this.pos, index: this.index };
  }

  /** Bytes on disk now (0 while the file does not exist yet). */
  size(): number {
    if (!this.open()) return 0;
    return fstatSync(this.fd!).size;
  }

  private open(): boolean {
    if (this.fd !== undefined) return true;
    try {
      this.fd = openSync(this.file, 'r');
      return true;
    } catch (error) {
      // Not created yet (the capture child opens it when libpcap is ready): try again next poll.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      this.problem = `cannot open: ${(error as Error).message}`;
      return false;
    }
  }

  private readHeader(): boolean {
    const h = Buffer.alloc(24);
    if (readSync(this.fd!, h, 0, 24, 0) < 24) return false; // header not written yet
    const m = h.readUInt32LE(0);
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) this.le = true;
    else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) this.le = false;
    else {
      this.problem = m === 0x0a0d0d0a ? 'pcapng is not followed live (the post-run analysis reads it)' : `not a pcap file (starts with ${h.subarray(0, 4).toString('hex')})`;
      return false;
    }
    this.nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
    this.view.linkType = this.le ? h.readUInt32LE(20) : h.readUInt32BE(20);
    this.headerRead = true;
    if (this.pos < 24) this.pos = 24;
    return true;
  }

  /**
   * Hands every whole record written since the last poll to `onPacket`, in file order, reading at
   * most about `maxBytes`; stops before the first record stamped at or after `untilMs`.
   */
  poll(onPacket: FollowCallback, maxBytes: number, untilMs = Infinity, endOffset = Infinity): PollResult {
    const out: PollResult = { packets: 0, more: false, held: false };
    if (this.problem || !this.open()) return out;
    if (!this.headerRead && !this.readHeader()) return out;
    const p = this.view;
    let budget = maxBytes;
    const le = this.le;
    for (;;) {
      if (this.pos >= endOffset) return out;
      const want = Math.min(this.buf.length, endOffset - this.pos);
      const got = readSync(this.fd!, this.buf, 0, want, this.pos);
      if (got < 16) return out;
      const buf = this.buf;
      p.buf = buf;
      let at = 0;
      for (;;) {
        if (got - at < 16) break;
        const sec = le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
        const frac = le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
        const incl = le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
        if (incl > MAX_RECORD) {
          this.problem = `record length ${incl} at byte offset ${this.pos + at} exceeds ${MAX_RECORD} (damaged record header)`;
          this.pos += at;
          return out;
        }
        if (got - at < 16 + incl) {
          if (at === 0 && 16 + incl > buf.length) this.buf = Buffer.allocUnsafe(16 + incl); // grows once, to MAX_RECORD at most
          break; // cut record: wait for the rest
        }
        const nsec = this.nano ? frac : frac * 1000;
        const ms = sec * 1000 + nsec / 1e6;
        if (ms >= untilMs) {
          this.pos += at;
          out.held = true;
          return out;
        }
        p.index = ++this.index;
        p.sec = sec;
        p.nsec = nsec;
        p.timeMs = ms;
        p.offset = at + 16;
        p.caplen = incl;
        p.origLen = le ? buf.readUInt32LE(at + 12) : buf.readUInt32BE(at + 12);
        p.fileOffset = this.pos + at;
        this.lastMs = ms;
        at += 16 + incl;
        out.packets++;
        onPacket(p);
      }
      this.pos += at;
      budget -= at;
      if (at === 0) return out; // only a cut record is left
      if (budget <= 0) {
        out.more = true;
        return out;
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The file is whole and read: its descriptor and buffer go (position and lastMs stay). */
  release(): void {
    this.close();
    this.buf = Buffer.alloc(0);
    // The packet view holds the last buffer read too (a released part's 1 MiB each, until the run ended).
    this.view.buf = this.buf;
  }

  /** Bytes of read buffer this follower holds (LiveAnalyzer.retained()). */
  heldBytes(): number {
    return this.buf.length + (this.view.buf === this.buf ? 0 : this.view.buf.length);
  }
}
