/**
 * Finds MAVLink v1/v2 packets in a byte stream (a serial line, a UDP datagram, a TCP stream)
 * and checks their CRC. Garbage, damaged packets and unknown message ids are counted and
 * skipped, never fatal: a radio link delivers all three.
 *
 * Hand-written rather than node-mavlink's splitter so the counters are ours, damaged bytes
 * resynchronise on the next start byte, and the same code frames live links and tlogs.
 */
import { crcAccumulate, crcByte, crcExtra } from './crc.js';

export const MAGIC_V1 = 0xfe;
export const MAGIC_V2 = 0xfd;
const IFLAG_SIGNED = 0x01;

/** Total length of the packet starting at buf[p], or 0 when the header is not complete yet. */
export function packetLength(buf: Uint8Array, p: number, end: number): number {
  const magic = buf[p];
  if (end - p < 3) return 0;
  if (magic === MAGIC_V1) return buf[p + 1]! + 8;
  return buf[p + 1]! + 12 + (buf[p + 2]! & IFLAG_SIGNED ? 13 : 0);
}

/** Message id of a packet at buf[p] (v1 or v2). */
export function packetMsgId(buf: Uint8Array, p: number): number {
  if (buf[p] === MAGIC_V1) return buf[p + 5]!;
  return buf[p + 7]! | (buf[p + 8]! << 8) | (buf[p + 9]! << 16);
}

export function packetSysId(buf: Uint8Array, p: number): number {
  return buf[p] === MAGIC_V1 ? buf[p + 3]! : buf[p + 5]!;
}

export function packetSeq(buf: Uint8Array, p: number): number {
  return buf[p] === MAGIC_V1 ? buf[p + 2]! : buf[p + 4]!;
}

export const CHECK_OK = 0;
export const CHECK_BAD_CRC = 1;
export const CHECK_UNKNOWN_ID = 2;

/** Check the CRC of a whole packet buf[p, p+len). */
export function checkPacket(buf: Uint8Array, p: number, len: number): number {
  const v1 = buf[p] === MAGIC_V1;
  const plen = buf[p + 1]!;
  const crcEnd = p + (v1 ? 6 : 10) + plen; // first CRC byte
  const extra = crcExtra(packetMsgId(buf, p));
  if (extra < 0) return CHECK_UNKNOWN_ID;
  let crc = crcAccumulate(0xffff, buf, p + 1, crcEnd);
  crc = crcByte(crc, extra);
  if (len < crcEnd - p + 2) return CHECK_BAD_CRC;
  return (crc & 0xff) === buf[crcEnd] && crc >>> 8 === buf[crcEnd + 1] ? CHECK_OK : CHECK_BAD_CRC;
}

export interface FrameCounters {
  packets: number;
  crcErrors: number;
  unknownIds: number;
  /** Bytes skipped that belonged to no valid packet (garbage, damaged packets). */
  badBytes: number;
}

/** Where damage was found: the header of a frame whose CRC failed, when it began with one. */
export interface DamageInfo {
  /** A start byte and a header were there, but the CRC did not check. */
  badCrc: boolean;
  msgid?: number;
  sysid?: number;
}

/**
 * Streaming framer for live links. `push(chunk)` calls `onPacket` with each valid packet
 * (a fresh Buffer the listener may keep). Packets with unknown message ids are counted and
 * passed to `onUnknown` whole (they are real traffic we cannot check), then skipped. Each run
 * of bytes that belong to no valid packet (a CRC-damaged frame, line noise) goes to `onDamage`
 * once, whole: the vehicle transmitted it all the same.
 */
export class FrameScanner {
  readonly counters: FrameCounters = { packets: 0, crcErrors: 0, unknownIds: 0, badBytes: 0 };
  private pending: Buffer = Buffer.alloc(0);
  /** A damaged run still open (it may go on in the next chunk): its bytes so far, what began it, when. */
  private damaged: { parts: Buffer[]; info: DamageInfo; atMs: number } | undefined;
  private lastPushMs = 0;

  constructor(
    private readonly onPacket: (packet: Buffer) => void,
    private readonly onUnknown: (packet: Buffer) => void = () => {},
    private readonly onDamage: (bytes: Buffer, info: DamageInfo, atMs: number) => void = () => {},
  ) {}

  /** End an open damaged run (and any unfinished bytes) once the line has been idle `idleMs`. */
  flushIdle(idleMs: number, now = Date.now()): void {
    if (now - this.lastPushMs < idleMs) return;
    if (this.pending.length) {
      this.counters.badBytes += this.pending.length;
      this.addDamage(this.pending, { badCrc: false });
      this.pending = Buffer.alloc(0);
    }
    this.endDamage();
  }

  private addDamage(bytes: Buffer, info: DamageInfo): void {
    if (!this.damaged) this.damaged = { parts: [], info, atMs: Date.now() };
    this.damaged.parts.push(Buffer.from(bytes));
  }

  private endDamage(): void {
    const d = this.damaged;
    if (!d) return;
    this.damaged = undefined;
    this.onDamage(Buffer.concat(d.parts), d.info, d.atMs);
  }

  push(chunk: Buffer): void {
    this.lastPushMs = Date.now();
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = buf.length;
    let p = 0;
    let damStart = -1;
    let damInfo: DamageInfo = { badCrc: false };
    const takeDamage = () => {
      if (damStart < 0) return;
      this.addDamage(buf.subarray(damStart, p), damInfo);
      damStart = -1;
      damInfo = { badCrc: false };
    };
    const flushDamage = () => {
      takeDamage();
      this.endDamage();
    };
    while (p < end) {
      const b = buf[p];
      if (b !== MAGIC_V1 && b !== MAGIC_V2) {
        this.counters.badBytes++;
        if (damStart < 0) damStart = p;
        p++;
        continue;
      }
      const len = packetLength(buf, p, end);
      if (len === 0 || p + len > end) break; // incomplete: wait for more bytes
      const check = checkPacket(buf, p, len);
      if (check === CHECK_OK) {
        flushDamage();
        this.counters.packets++;
        this.onPacket(Buffer.from(buf.subarray(p, p + len)));
        p += len;
      } else if (check === CHECK_UNKNOWN_ID) {
        flushDamage();
        this.counters.unknownIds++;
        this.onUnknown(Buffer.from(buf.subarray(p, p + len)));
        p += len;
      } else {
        // A damaged packet or a start byte inside garbage: skip the start byte and look again,
        // so a real packet hidden in the "length" of a false start is not lost.
        this.counters.crcErrors++;
        this.counters.badBytes++;
        if (damStart < 0) {
          damStart = p;
          damInfo = { badCrc: true, msgid: packetMsgId(buf, p), sysid: packetSysId(buf, p) };
        }
        p++;
      }
    }
    // The run may go on in the next chunk: keep it open (flushIdle or the next packet ends it).
    takeDamage();
    // Keep at most one maximal packet's worth of unfinished bytes.
    this.pending = p < end ? Buffer.from(buf.subarray(p)) : Buffer.alloc(0);
  }
}
