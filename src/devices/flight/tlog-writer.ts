/** Writing the telemetry record (read by src/analysis/mavlink/tlog.ts): each packet after its 8-byte big-endian UNIX time in microseconds. */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { reportWriteError } from '../health/index.js';

const TWO32 = 4294967296;

/** Now as UNIX microseconds (sub-millisecond resolution). */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Appends records to a tlog; flushed at least every `flushMs` and on close (then fsynced). */
export class TlogWriter {
  private fd: number;
  private chunks: Buffer[] = [];
  private timer: NodeJS.Timeout;
  private closed = false;
  private writeFailed = false;

  constructor(
    readonly file: string,
    flushMs = 1000,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  write(packet: Buffer, timeUs = nowUs()): void {
    if (this.closed) return;
    const ts = Buffer.allocUnsafe(8);
    ts.writeUInt32BE(Math.floor(timeUs / TWO32), 0);
    ts.writeUInt32BE(timeUs % TWO32, 4);
    this.chunks.push(ts, packet);
  }

  flush(): void {
    if (this.closed || this.chunks.length === 0) return;
    const data = Buffer.concat(this.chunks);
    this.chunks = [];
    if (this.writeFailed) return;
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(this.fd, data, off);
    } catch (err) {
      // A full disk: the records already written stay readable; the run is safed.
      this.writeFailed = true;
      reportWriteError(this.file, err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    clearInterval(this.timer);
    this.closed = true;
    try {
      fs.fsyncSync(this.fd);
    } catch {
      /* reported by flush; closing must not throw during safing */
    }
    fs.closeSync(this.fd);
  }
}

