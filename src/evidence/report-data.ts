/**
 * The series report.html plots, read synchronously from the run directory's raw files:
 * packets per second per `net-*.pcap(ng)`, amps per `power-*.csv`, and the highest level per
 * sweep per band of `radio-*.csv` (hackrf_sweep format). Times are epoch seconds (uPlot's unit).
 *
 * Hand-written record walker: the report needs only each record's timestamp, read in chunks with
 * one reused buffer; the analyzer's reader (src/analysis) is asynchronous and decodes more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSweepLine } from '../analysis/radio/sweep-csv.js';
import { readPowerCsv } from '../analysis/index.js';

export interface Series {
  /** Legend label: the file (or file and band). */
  label: string;
  file: string;
  /** Epoch seconds. */
  x: number[];
  y: (number | null)[];
}

export interface ReportSeries {
  packets: Series[];
  power: Series[];
  radio: Series[];
  /** Files that could not be read completely, and why (the chart shows what was read). */
  notes: string[];
}

const CHUNK = 1 << 20;

/** Calls onTime(epochSeconds) for every packet record of a pcap or pcapng file. Returns a note on damage, if any. */
export function walkPacketTimes(file: string, onTime: (sec: number) => void): string | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(CHUNK);
    let bufStart = 0; // file offset of buf[0]
    let bufLen = 0;
    // Ensures [off, off + n) of the file is in buf; returns its index in buf, or -1 at end of file.
    const need = (off: number, n: number): number => {
      if (off >= bufStart && off + n <= bufStart + bufLen) return off - bufStart;
      if (off + n > size) return -1;
      if (n > buf.length) buf = Buffer.allocUnsafe(Math.max(n, buf.length * 2));
      bufStart = off;
      bufLen = fs.readSync(fd, buf, 0, Math.min(buf.length, size - off), off);
      return bufLen >= n ? 0 : -1;
    };
    let i = need(0, 4);
    if (i < 0) return `${path.basename(file)}: too short for a capture`;
    const magic = buf.readUInt32LE(i);
    if (magic === 0x0a0d0d0a) return walkPcapng(need, () => buf, size, onTime, path.basename(file));
    let le: boolean;
    let nano: boolean;
    if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) [le, nano] = [true, magic === 0xa1b23c4d];
    else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) [le, nano] = [false, magic === 0x4d3cb2a1];
    else return `${path.basename(file)}: not a pcap or pcapng file`;
    if (size < 24) return `${path.basename(file)}: truncated file header (${size} of 24 bytes)`;
    let off = 24;
    while (off < size) {
      i = need(off, 16);
      if (i < 0) return `${path.basename(file)}: truncated record header at byte ${off}`;
      const sec = le ? buf.readUInt32LE(i) : buf.readUInt32BE(i);
      const frac = le ? buf.readUInt32LE(i + 4) : buf.readUInt32BE(i + 4);
      const caplen = le ? buf.readUInt32LE(i + 8) : buf.readUInt32BE(i + 8);
      if (caplen > 262144) return `${path.basename(file)}: bad record length at byte ${off}`;
      if (off + 16 + caplen > size) return `${path.basename(file)}: truncated packet at byte ${off}`;
      onTime(sec + frac / (nano ? 1e9 : 1e6));
      off += 16 + caplen;
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function walkPcapng(
  need: (off: number, n: number) => number,
  buf: () => Buffer,
  size: number,
  onTime: (sec: number) => void,
  name: string,
): string | undefined {
  let off = 0;
  let le = true;
  let resolutions: number[] = []; // ticks per second, per interface of the current section
  while (off < size) {
    let i = need(off, 12);
    if (i < 0) return `${name}: truncated block at byte ${off}`;
    let b = buf();
    let type = b.readUInt32LE(i);
    if (type === 0x0a0d0d0a) {
      const bom = b.readUInt32LE(i + 8);
      le = bom === 0x1a2b3c4d;
      if (!le && bom !== 0x4d3c2b1a) return `${name}: bad byte-order magic at byte ${off}`;
      resolutions = [];
    }
    const u32 = (k: number): number => (le ? buf().readUInt32LE(k) : buf().readUInt32BE(k));
    const u16 = (k: number): number => (le ? buf().readUInt16LE(k) : buf().readUInt16BE(k));
    type = u32(i);
    const len = u32(i + 4);
    if (len < 12 || len % 4 !== 0) return `${name}: bad block length at byte ${off}`;
    if (off + len > size) return `${name}: truncated block at byte ${off}`;
    if (type === 1) {
      // Interface Description Block: look for if_tsresol (option 9).
      i = need(off, len);
      if (i < 0) return `${name}: truncated block at byte ${off}`;
      b = buf();
      let res = 1e6;
      let o = i + 16;
      while (o + 4 <= i + len - 4) {
        const code = u16(o);
        const olen = u16(o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = b[o + 4]!;
          res = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
        }
        o += 4 + Math.ceil(olen / 4) * 4;
      }
      resolutions.push(res);
    } else if (type === 6) {
      i = need(off, 20);
      if (i < 0) return `${name}: truncated block at byte ${off}`;
      const ifId = u32(i + 8);
      const ticks = u32(i + 12) * 2 ** 32 + u32(i + 16);
      onTime(ticks / (resolutions[ifId] ?? 1e6));
    }
    off += len;
  }
  return undefined;
}

/** Packets per whole second, from the first second with a packet to the last; seconds without packets are 0. */
export function packetsPerSecond(file: string, notes: string[]): Series {
  const counts = new Map<number, number>();
  const note = walkPacketTimes(file, (t) => {
    const s = Math.floor(t);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  });
  if (note) notes.push(note);
  const keys = [...counts.keys()];
  const x: number[] = [];
  const y: number[] = [];
  if (keys.length) {
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    for (let s = lo; s <= hi; s++) {
      x.push(s);
      y.push(counts.get(s) ?? 0);
    }
  }
  const base = path.basename(file);
  return { label: base.replace(/^net-/, '').replace(/\.pcap(ng)?$/, ''), file: base, x, y };
}

/** Amps over time from a power CSV (`time,volts,amps,...` with a header line); empty amps are gaps. */
export function powerSeries(file: string, notes: string[]): Series {
  const base = path.basename(file);
  const rows = readPowerCsv(file);
  if (!rows) {
    notes.push(`${base}: no time and amps columns`);
    return { label: base, file: base, x: [], y: [] };
  }
  return { label: base.replace(/^power-/, '').replace(/\.csv$/, ''), file: base, x: rows.map((r) => r.ms / 1000), y: rows.map((r) => r.amps) };
}

/**
 * Highest level per sweep per band of a hackrf_sweep-format CSV. A band is a run of contiguous row
 * ranges (hz_low of one row = hz_high of the previous); a sweep of a band starts when hz_low comes back
 * to the band's start. The point's time is the sweep's first row.
 */
export function radioSeries(file: string, notes: string[]): Series[] {
  const base = path.basename(file);
  const rows: { t: number; lo: number; hi: number; max: number }[] = [];
  const text = fs.readFileSync(file, 'utf8');
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const l = raw.replace(/\r$/, '');
    if (!l) continue;
    const r = parseSweepLine(l, line);
    if (typeof r === 'string') continue;
    let max = -Infinity;
    for (const v of r.db) if (Number.isFinite(v) && v > max) max = v;
    if (max === -Infinity) continue;
    rows.push({ t: r.timeMs / 1000, lo: r.lowHz, hi: r.highHz, max });
  }
  if (!rows.length) {
    notes.push(`${base}: no sweep rows`);
    return [];
  }
  // Bands: merge the distinct row ranges that touch.
  const ranges = [...new Map(rows.map((r) => [r.lo, r.hi])).entries()].sort((a, b) => a[0] - b[0]);
  const bands: { lo: number; hi: number }[] = [];
  for (const [lo, hi] of ranges) {
    const last = bands[bands.length - 1];
    if (last && lo <= last.hi) last.hi = Math.max(last.hi, hi);
    else bands.push({ lo, hi });
  }
  const out: Series[] = [];
  for (const b of bands) {
    const x: number[] = [];
    const y: number[] = [];
    for (const r of rows) {
      if (r.lo < b.lo || r.lo >= b.hi) continue;
      if (r.lo === b.lo || x.length === 0) {
        x.push(r.t);
        y.push(r.max);
      } else if (r.max > y[y.length - 1]!) y[y.length - 1] = r.max;
    }
    const mhz = (hz: number): string => String(Math.round(hz / 1e5) / 10);
    out.push({ label: `${base.replace(/^radio-/, '').replace(/\.csv$/, '')} ${mhz(b.lo)}-${mhz(b.hi)} MHz`, file: base, x, y });
  }
  return out;
}

/** Every series of the run directory, files in name order. */
export function readReportSeries(runDir: string): ReportSeries {
  const names = fs.readdirSync(runDir).sort();
  const notes: string[] = [];
  const s: ReportSeries = { packets: [], power: [], radio: [], notes };
  for (const n of names) {
    const f = path.join(runDir, n);
    try {
      if (/^net-.*\.pcap(ng)?$/.test(n)) s.packets.push(packetsPerSecond(f, notes));
      else if (/^power-.*\.csv$/.test(n)) s.power.push(powerSeries(f, notes));
      else if (/^radio-.*\.csv$/.test(n)) s.radio.push(...radioSeries(f, notes));
    } catch (e) {
      notes.push(`${n}: ${(e as Error).message}`);
    }
  }
  return s;
}
