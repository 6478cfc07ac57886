/**
 * Reading the telemetry record: tlog files as MAVProxy and QGroundControl write them, each packet
 * preceded by an 8-byte big-endian UNIX timestamp in microseconds (written by
 * src/devices/flight/tlog-writer.ts).
 *
 * The reader is hand-written (docs/developer/dependency-traps.md): node-mavlink's tlog splitter loses
 * packets at chunk boundaries and takes any 8 bytes before a start byte for a timestamp. Here
 * each record's length comes from its packet header, damage is resynchronised on a plausible
 * timestamp followed by a packet whose CRC checks, and the loop reuses one read buffer and one
 * record view (no allocation per packet) to check CRCs at well over a million packets a second.
 */
import fs from 'node:fs';
import {
  CHECK_BAD_CRC,
  CHECK_OK,
  CHECK_UNKNOWN_ID,
  MAGIC_V1,
  MAGIC_V2,
  checkPacket,
  packetLength,
  packetMsgId,
} from './framing.js';
import { messageName } from './crc.js';

const TWO32 = 4294967296;

/**
 * One record as the reader walks the file. The object and its buffer are reused: read what
 * you need inside the callback; copy `buf.subarray(start, start + length)` to keep bytes.
 */
export interface TlogRecord {
  /** 1-based number of the record in the file (damaged records with a framing count too). */
  index: number;
  /** File offset of the record's timestamp. */
  offset: number;
  /** UNIX time in microseconds. */
  timeUs: number;
  version: 1 | 2;
  msgid: number;
  sysid: number;
  compid: number;
  seq: number;
  buf: Buffer;
  start: number;
  length: number;
}

export interface TlogReadStats {
  /** Records framed (valid, CRC-damaged and unknown ids). */
  records: number;
  /** Records with a valid CRC (passed to the callback). */
  packets: number;
  crcErrors: number;
  unknownIds: number;
  /** Bytes skipped while resynchronising after damage. */
  badBytes: number;
  /** File offset of the first damage found (a bad CRC, bad framing, a truncated record). */
  damagedAtOffset?: number;
  firstTimeUs?: number;
  lastTimeUs?: number;
}

const MIN_PLAUSIBLE_US = 946_684_800e6; // 2000-01-01
const MAX_PLAUSIBLE_US = 4_102_444_800e6; // 2100-01-01

/**
 * Stream a tlog, calling `onPacket` for every record whose CRC checks (with its 1-based record
 * number). Damaged bytes are skipped and counted, never fatal.
 */
export async function readTlog(
  file: string,
  onPacket: (rec: TlogRecord) => void,
  opts: { chunkSize?: number; onUnknown?: (rec: TlogRecord) => void } = {},
): Promise<TlogReadStats> {
  const size = Math.max(opts.chunkSize ?? 8 << 20, 1024);
  const buf = Buffer.allocUnsafe(size);
  const stats: TlogReadStats = { records: 0, packets: 0, crcErrors: 0, unknownIds: 0, badBytes: 0 };
  const rec: TlogRecord = {
    index: 0, offset: 0, timeUs: 0, version: 2, msgid: 0, sysid: 0, compid: 0, seq: 0, buf, start: 0, length: 0,
  };
  const fh = await fs.promises.open(file, 'r');
  try {
    let filled = 0; // bytes valid in buf
    let bufFileOffset = 0; // file offset of buf[0]
    let eof = false;
    let lastUs = -1;
    let resyncing = false;
    for (;;) {
      if (!eof && filled < size) {
        const { bytesRead } = await fh.read(buf, filled, size - filled, bufFileOffset + filled);
        if (bytesRead === 0) eof = true;
        filled += bytesRead;
      }
      let p = 0;
      while (p + 11 <= filled) {
        const magic = buf[p + 8];
        const timeUs = buf.readUInt32BE(p) * TWO32 + buf.readUInt32BE(p + 4);
        const plausible =
          (magic === MAGIC_V2 || magic === MAGIC_V1) &&
          (lastUs < 0
            ? timeUs >= MIN_PLAUSIBLE_US && timeUs < MAX_PLAUSIBLE_US
            : timeUs >= lastUs - 3_600e6 && timeUs <= lastUs + 86_400e6);
        if (!plausible) {
          if (!resyncing) {
            resyncing = true;
            if (stats.damagedAtOffset === undefined) stats.damagedAtOffset = bufFileOffset + p;
          }
          stats.badBytes++;
          p++;
          continue;
        }
        const len = packetLength(buf, p + 8, filled);
        if (p + 8 + len > filled) break; // the rest is in the next read
        const check = checkPacket(buf, p + 8, len);
        if (resyncing && check === CHECK_BAD_CRC) {
          // Still inside damage: a plausible-looking header is not enough to resynchronise.
          stats.badBytes++;
          p++;
          continue;
        }
        resyncing = false;
        stats.records++;
        if (check === CHECK_OK) {
          stats.packets++;
          lastUs = timeUs;
          if (stats.firstTimeUs === undefined) stats.firstTimeUs = timeUs;
          stats.lastTimeUs = timeUs;
          const q = p + 8;
          rec.index = stats.records;
          rec.offset = bufFileOffset + p;
          rec.timeUs = timeUs;
          if (magic === MAGIC_V2) {
            rec.version = 2;
            rec.seq = buf[q + 4]!;
            rec.sysid = buf[q + 5]!;
            rec.compid = buf[q + 6]!;
          } else {
            rec.version = 1;
            rec.seq = buf[q + 2]!;
            rec.sysid = buf[q + 3]!;
            rec.compid = buf[q + 4]!;
          }
          rec.msgid = packetMsgId(buf, q);
          rec.start = q;
          rec.length = len;
          onPacket(rec);
        } else if (check === CHECK_UNKNOWN_ID) {
          stats.unknownIds++;
          lastUs = timeUs;
          if (opts.onUnknown) {
            // A message id we have no definition for: its CRC cannot be checked, but its header
            // still says who sent it (no_mavlink counts it).
            const q = p + 8;
            const v1 = magic === MAGIC_V1;
            rec.index = stats.records;
            rec.offset = bufFileOffset + p;
            rec.timeUs = timeUs;
            rec.version = v1 ? 1 : 2;
            rec.seq = buf[q + (v1 ? 2 : 4)]!;
            rec.sysid = buf[q + (v1 ? 3 : 5)]!;
            rec.compid = buf[q + (v1 ? 4 : 6)]!;
            rec.msgid = packetMsgId(buf, q);
            rec.start = q;
            rec.length = len;
            opts.onUnknown(rec);
          }
        } else {
          // Airlock records only packets that passed their CRC: a bad one here is file damage.
          stats.crcErrors++;
          if (stats.damagedAtOffset === undefined) stats.damagedAtOffset = bufFileOffset + p;
        }
        p += 8 + len;
      }
      if (eof) {
        if (p < filled) {
          // A truncated last record (the run was cut) or trailing garbage.
          if (stats.damagedAtOffset === undefined && !resyncing) stats.damagedAtOffset = bufFileOffset + p;
          stats.badBytes += filled - p;
        }
        break;
      }
      buf.copyWithin(0, p, filled);
      bufFileOffset += p;
      filled -= p;
    }
  } finally {
    await fh.close();
  }
  return stats;
}

export interface TlogSummary {
  /** Valid packets in the time window. */
  packets: number;
  /** Of those, packets sent by `systemId` (all of them when no system id is given). */
  fromSystem: number;
  /** 1-based record number of the first packet from the system in the window. */
  firstPacket?: number;
  /** UNIX ms of the first and last packet from the system in the window. */
  firstTimeMs?: number;
  lastTimeMs?: number;
  /** Packets from the system by message name. */
  messages: Record<string, number>;
  crcErrors: number;
  /** Of `fromSystem`, packets whose message id Airlock has no definition for (UNKNOWN_<id> in `messages`). */
  unknownIds: number;
  damagedAtOffset?: number;
}

/** Count what a system sent in a time window (the `no_mavlink` assertion, `compare`). */
export async function summarizeTlog(
  file: string,
  opts: { systemId?: number; fromMs?: number; toMs?: number } = {},
): Promise<TlogSummary> {
  const fromUs = opts.fromMs === undefined ? -Infinity : opts.fromMs * 1000;
  const toUs = opts.toMs === undefined ? Infinity : opts.toMs * 1000;
  const counts = new Map<number, number>();
  const out: TlogSummary = { packets: 0, fromSystem: 0, messages: {}, crcErrors: 0, unknownIds: 0 };
  let firstUs: number | undefined;
  let lastUs: number | undefined;
  const take = (r: TlogRecord) => {
    if (r.timeUs < fromUs || r.timeUs > toUs) return false;
    out.packets++;
    if (opts.systemId !== undefined && r.sysid !== opts.systemId) return false;
    out.fromSystem++;
    if (out.firstPacket === undefined) {
      out.firstPacket = r.index;
      firstUs = r.timeUs;
    }
    lastUs = r.timeUs;
    return true;
  };
  const stats = await readTlog(
    file,
    (r) => {
      if (take(r)) counts.set(r.msgid, (counts.get(r.msgid) ?? 0) + 1);
    },
    {
      // Packets of unknown message ids are transmissions all the same: counted, named as unknown.
      onUnknown: (r) => {
        if (!take(r)) return;
        out.unknownIds++;
        counts.set(r.msgid, (counts.get(r.msgid) ?? 0) + 1);
      },
    },
  );
  for (const [id, n] of counts) out.messages[messageName(id)] = n;
  out.crcErrors = stats.crcErrors;
  if (stats.damagedAtOffset !== undefined) out.damagedAtOffset = stats.damagedAtOffset;
  if (firstUs !== undefined) out.firstTimeMs = firstUs / 1000;
  if (lastUs !== undefined) out.lastTimeMs = lastUs / 1000;
  return out;
}
