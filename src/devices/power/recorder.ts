/**
 * The power record: every channel read at `rateHz` into `power-<channel>.csv` in the run
 * directory. Columns: time (ISO 8601 UTC), volts, amps, mono_ms (monotonic ms since start,
 * for gaps), on (1/0), error (code of a failed read; volts and amps are then empty). Relays and
 * manual channels have empty volts and amps. Rows reach the file at least every second.
 * A failed read is a row, not a crash; `maxConsecutiveFailures` in a row make the capture lossy.
 * The first failed read of a channel is also reported on the health channel at once (the run
 * goes to safing at the next poll, not when safing later tries the channel), and so is a
 * write that fails (a full disk): the rows already written stay readable.
 */
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type pino from 'pino';
import type { Capture, CaptureResult, CaptureStats } from '../capture/capture.js';
import type { PowerChannel } from './power-channel.js';
import { AirlockError, RigFaultError } from '../../errors.js';
import { reportFault, reportWriteError } from '../health/index.js';

export const POWER_CSV_HEADER = 'time,volts,amps,mono_ms,on,error\n';
const FLUSH_MS = 500;

export interface PowerRecorderOptions {
  channels: PowerChannel[];
  /** Readings per second per channel (rig `powerSampleHz`, default 10). */
  rateHz: number;
  /** Run directory. */
  dir: string;
  log: pino.Logger;
  /** Consecutive failed reads of one channel that make the record lossy (default 5). */
  maxConsecutiveFailures?: number;
  name?: string;
}

interface Track {
  channel: PowerChannel;
  file: string;
  fh: FileHandle | null;
  lines: string[];
  busy: boolean;
  failures: number;
  /** Last current read (A), for the live display; null when the device cannot measure. */
  lastAmps: number | null;
}

export function powerCsvName(channel: string): string {
  return `power-${channel}.csv`;
}

export class PowerRecorder implements Capture {
  readonly kind = 'power' as const;
  readonly name: string;
  private readonly tracks: Track[];
  private readonly log: pino.Logger;
  private readonly maxFailures: number;
  private tick: NodeJS.Timeout | null = null;
  private flusher: NodeJS.Timeout | null = null;
  private t0 = 0;
  private readonly stats: CaptureStats = { records: 0, dropped: 0 };
  private lossyReason: string | undefined;
  private stopped: Promise<CaptureResult> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private inflight = new Set<Promise<void>>();
  private writeFailed = false;
  private stopping = false;

  constructor(private readonly opts: PowerRecorderOptions) {
    this.name = opts.name ?? 'power';
    this.log = opts.log.child({ capture: this.name });
    this.maxFailures = opts.maxConsecutiveFailures ?? 5;
    this.tracks = opts.channels.map((channel) => ({
      channel,
      file: powerCsvName(channel.name),
      fh: null,
      lines: [],
      busy: false,
      failures: 0,
      lastAmps: null,
    }));
  }

  async start(): Promise<void> {
    for (const t of this.tracks) {
      t.fh = await open(path.join(this.opts.dir, t.file), 'wx');
      await t.fh.write(POWER_CSV_HEADER);
    }
    this.t0 = performance.now();
    const period = 1000 / (this.opts.rateHz > 0 ? this.opts.rateHz : 10);
    this.sampleAll();
    this.tick = setInterval(() => this.sampleAll(), period);
    this.flusher = setInterval(() => void this.flush(), FLUSH_MS);
  }

  private sampleAll(): void {
    for (const t of this.tracks) {
      if (t.busy) {
        // The previous read is still running (a slow or silent device): this sample is missed.
        this.stats.dropped++;
        continue;
      }
      t.busy = true;
      const p = this.sample(t).finally(() => {
        t.busy = false;
        this.inflight.delete(p);
      });
      this.inflight.add(p);
    }
  }

  private async sample(t: Track): Promise<void> {
    const mono = performance.now() - this.t0;
    const sentAt = new Date();
    try {
      const r = await t.channel.read();
      t.lines.push(`${new Date().toISOString()},${num(r.volts)},${num(r.amps)},${mono.toFixed(1)},${r.on ? 1 : 0},\n`);
      t.lastAmps = r.amps;
      t.failures = 0;
      this.stats.records++;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      t.lines.push(`${new Date().toISOString()},,,${mono.toFixed(1)},,${typeof code === 'string' ? code : 'ERROR'}\n`);
      this.stats.dropped++;
      t.failures++;
      if (t.failures === 1 && !this.stopping) {
        const fault =
          err instanceof RigFaultError
            ? err
            : new RigFaultError(err instanceof AirlockError ? err.code : 'AIRLOCK_POWER_READ', t.channel.name, 'read', (err as Error).message, { cause: err });
        reportFault(fault, sentAt);
      }
      if (t.failures === this.maxFailures && !this.lossyReason) {
        this.lossyReason = `${t.channel.name}: ${this.maxFailures} consecutive readings failed: ${(err as Error).message}`;
        this.log.warn({ reason: this.lossyReason }, 'power record lossy');
      }
    }
  }

  private flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      for (const t of this.tracks) {
        if (!t.fh || t.lines.length === 0 || this.writeFailed) continue;
        const text = t.lines.join('');
        t.lines = [];
        try {
          await t.fh.write(text);
        } catch (err) {
          // The rows written so far stay; later rows are lost, and the record says so.
          this.writeFailed = true;
          this.lossyReason ??= `${t.file}: write failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); later readings were not recorded`;
          reportWriteError(t.file, err);
        }
      }
    });
    return this.writing;
  }

  stop(): Promise<CaptureResult> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<CaptureResult> {
    this.stopping = true;
    if (this.tick) clearInterval(this.tick);
    if (this.flusher) clearInterval(this.flusher);
    this.tick = this.flusher = null;
    await Promise.allSettled([...this.inflight]);
    await this.flush();
    for (const t of this.tracks) {
      if (!t.fh) continue;
      // A full disk fails the sync: that write error was reported when it happened.
      await t.fh.sync().catch(() => undefined);
      // Closing a handle whose sync failed: nothing more can be saved from it.
      await t.fh.close().catch(() => undefined);
      t.fh = null;
    }
    return {
      files: this.tracks.map((t) => t.file),
      stats: { ...this.stats },
      lossy: this.lossyReason !== undefined,
      reason: this.lossyReason,
    };
  }

  live(): CaptureStats {
    return { ...this.stats };
  }

  /** The last current read per channel (A), for the progress display. */
  currentDraw(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const t of this.tracks) out[t.channel.name] = t.lastAmps;
    return out;
  }
}

function num(v: number | null): string {
  return v === null ? '' : String(Math.round(v * 10000) / 10000);
}
