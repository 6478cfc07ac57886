/**
 * The virtual rig's SDR. Every sweep interval it reads the byte counters of the air link
 * (/proc/net/dev of its own network namespace, rx + tx) and turns the bytes that crossed in
 * that interval into per-band power: a noise floor near -95 dBm with a little random
 * variation when nothing crossed, rising with log10(bytes) over a 20 MHz "channel" in the
 * middle of each band when traffic crossed. It prints exactly hackrf_sweep's CSV, so one
 * parser serves real and virtual sweeps.
 *
 * It knows nothing of firmware profiles: an emission exists exactly when bytes cross the air.
 */
import { readFileSync } from 'node:fs';

export const FLOOR_DBM = -95;
/** Width of the occupied channel inside each band (Hz). */
export const CHANNEL_HZ = 20e6;
/** hackrf_sweep prints one line per 5 MHz (sample rate / 4). */
const LINE_SPAN_HZ = 5e6;

export interface VirtualSdrBand {
  lowHz: number;
  highHz: number;
}

/** rx_bytes + tx_bytes of one interface from /proc/net/dev text; undefined when it is absent. */
export function interfaceBytes(procNetDev: string, iface: string): number | undefined {
  for (const raw of procNetDev.split('\n')) {
    const colon = raw.indexOf(':');
    if (colon < 0) continue;
    if (raw.slice(0, colon).trim() !== iface) continue;
    const f = raw.slice(colon + 1).trim().split(/\s+/);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes ...
    return Number(f[0]) + Number(f[8]);
  }
  return undefined;
}

/** Signal power (dBm) in the occupied channel for `bytes` crossing in one interval. */
export function powerForBytes(bytes: number): number {
  if (bytes <= 0) return FLOOR_DBM;
  return Math.min(-30, FLOOR_DBM + 15 * Math.log10(1 + bytes));
}

/** Small noise around the floor: sum of uniforms, roughly N(0, 0.6 dB). */
export function noise(rand: () => number = Math.random): number {
  return (rand() + rand() + rand() - 1.5) * 1.2;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `2026-11-24, 09:01:02.123456` as hackrf_sweep prints it (UTC). */
export function hackrfTime(ms: number): string {
  const d = new Date(ms);
  const usec = Math.round((ms - Math.floor(ms / 1000) * 1000) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(usec, 6)}`;
}

/** hackrf_sweep lines for one sweep over the bands, given the bytes that crossed in the interval. */
export function sweepLines(timeMs: number, bands: VirtualSdrBand[], binHz: number, bytes: number, rand: () => number = Math.random): string[] {
  const out: string[] = [];
  const signal = powerForBytes(bytes);
  const binsPerLine = Math.max(1, Math.round(LINE_SPAN_HZ / binHz));
  const span = binsPerLine * binHz;
  const fftSize = binsPerLine * 4;
  const time = hackrfTime(timeMs);
  for (const b of bands) {
    const centre = (b.lowHz + b.highHz) / 2;
    const chLow = centre - CHANNEL_HZ / 2;
    const chHigh = centre + CHANNEL_HZ / 2;
    for (let lo = b.lowHz; lo < b.highHz; lo += span) {
      const vals: string[] = [];
      for (let i = 0; i < binsPerLine; i++) {
        const c = lo + (i + 0.5) * binHz;
        const inChannel = bytes > 0 && c >= chLow && c <= chHigh;
        vals.push((inChannel ? signal + noise(rand) * 0.5 : FLOOR_DBM + noise(rand)).toFixed(2));
      }
      out.push(`${time}, ${Math.round(lo)}, ${Math.round(lo + span)}, ${binHz.toFixed(2)}, ${fftSize}, ${vals.join(', ')}`);
    }
  }
  return out;
}

/** Runs the sweep loop, writing lines to `write`, until the returned stop function is called. */
export function runVirtualSdr(opts: {
  iface: string;
  bands: VirtualSdrBand[];
  binHz: number;
  intervalMs: number;
  write: (text: string) => void;
  readProc?: () => string;
}): () => void {
  const read = opts.readProc ?? (() => readFileSync('/proc/net/dev', 'utf8'));
  let last = interfaceBytes(read(), opts.iface);
  const timer = setInterval(() => {
    const now = interfaceBytes(read(), opts.iface);
    // An interface that is missing (not yet created, or gone) carries nothing: floor.
    const bytes = now !== undefined && last !== undefined ? Math.max(0, now - last) : 0;
    last = now;
    opts.write(sweepLines(Date.now(), opts.bands, opts.binHz, bytes).join('\n') + '\n');
  }, opts.intervalMs);
  return () => clearInterval(timer);
}
