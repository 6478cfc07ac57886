/**
 * SDR band sweeps: `hackrf_sweep`, `rtl_power`, or the virtual rig's SDR (which prints exactly
 * hackrf_sweep's format), each as a child process whose stdout is kept as `radio-<name>.csv`
 * in the run directory and parsed as it streams.
 *
 * A tool that exits before it is told to, prints nothing for `lineTimeoutMs`, or prints a line
 * that is not sweep output is a rig fault naming the tool (RadioFaultError). A fault during
 * start() rejects start(); a later one is handed to `onFault` (the orchestrator safes the rig)
 * and makes the capture lossy; the raw file written so far is kept either way.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { RigBand, RigSdr } from '../../config/types.js';
import type { Capture, CaptureResult, CaptureStats } from '../capture/capture.js';
import { nodeScript } from '../../child-script.js';
import { LineSplitter, bandPower, median, parseSweepLine, type SweepRow } from '../../analysis/radio/sweep-csv.js';
import { RadioConfigError, RadioFaultError, type RadioFaultCode } from './errors.js';
import { ToolProcess } from './tool-process.js';
import { reportWriteError } from '../health/index.js';

/** The slice of a pino logger the radio drivers use. */
export interface RadioLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SweepCaptureOptions {
  sdr: RigSdr;
  runDir: string;
  /** Network namespace the virtual SDR runs in (the drone's); required for driver `virtual`. */
  netns?: string;
  /** File name inside runDir (default `radio-<name>.csv`). */
  fileName?: string;
  /** No complete line for this long is a hung tool (default 5000 ms). */
  lineTimeoutMs?: number;
  /** Time allowed for the first line (default 15000 ms: hackrf_sweep tunes and calibrates first, a node child compiles). */
  firstLineTimeoutMs?: number;
  /** A fault after start() resolved. */
  onFault?: (err: RadioFaultError) => void;
  /** Every parsed row, live. */
  onRow?: (row: SweepRow) => void;
  log?: RadioLog;
}

/** Virtual SDR's sweep interval (ms), passed to its child. */
export const VIRTUAL_SWEEP_INTERVAL_MS = 250;

function mhz(hz: number, up: boolean): number {
  return up ? Math.ceil(hz / 1e6) : Math.floor(hz / 1e6);
}

/** The argv of each child a sweep needs (rtl_power takes one range, so one child per band). */
export function sweepCommands(sdr: RigSdr, netns?: string): { tool: string; argv: string[] }[] {
  if (sdr.bands.length === 0) throw new RadioConfigError(`sdr ${sdr.name}: no bands to sweep`);
  const extra = sdr.args ?? [];
  switch (sdr.driver) {
    case 'hackrf_sweep': {
      // hackrf_sweep refuses bins outside 2445 Hz .. 5 MHz; say so before starting it.
      if (sdr.binWidthHz < 2445 || sdr.binWidthHz > 5e6) throw new RadioConfigError(`sdr ${sdr.name}: hackrf_sweep bin width must be between 2445 Hz and 5 MHz, not ${sdr.binWidthHz} Hz`);
      const bin = sdr.command ?? 'hackrf_sweep';
      const argv = [bin];
      // hackrf_sweep takes several -f ranges in one run (whole MHz).
      for (const b of sdr.bands) argv.push('-f', `${mhz(b.lowHz, false)}:${mhz(b.highHz, true)}`);
      argv.push('-w', String(Math.round(sdr.binWidthHz)), ...extra);
      return [{ tool: 'hackrf_sweep', argv }];
    }
    case 'rtl_power': {
      const bin = sdr.command ?? 'rtl_power';
      return sdr.bands.map((b) => ({
        tool: 'rtl_power',
        argv: [bin, '-f', `${Math.round(b.lowHz)}:${Math.round(b.highHz)}:${Math.round(sdr.binWidthHz)}`, '-i', '1', ...extra],
      }));
    }
    case 'virtual': {
      const bands = sdr.bands.map((b) => `${Math.round(b.lowHz)}:${Math.round(b.highHz)}`).join(',');
      const script = sdr.command ? [sdr.command] : nodeScript(import.meta.url, '../../sim/radio/virtual-sdr-child');
      const args = [...script, '--bands', bands, '--bin', String(Math.round(sdr.binWidthHz)), '--interval', String(VIRTUAL_SWEEP_INTERVAL_MS), ...extra];
      if (!netns) return [{ tool: 'virtual-sdr', argv: args }];
      return [{ tool: 'virtual-sdr', argv: ['ip', 'netns', 'exec', netns, ...args] }];
    }
    default:
      throw new RadioConfigError(`sdr ${(sdr as RigSdr).name}: unknown driver ${(sdr as RigSdr).driver}`);
  }
}

interface Running {
  tool: string;
  proc: ToolProcess;
  splitter: LineSplitter;
  timer?: NodeJS.Timeout;
  lines: number;
}

export class SweepCapture implements Capture {
  readonly kind = 'radio' as const;
  readonly name: string;
  readonly file: string;
  private readonly lineTimeoutMs: number;
  private fd: number | undefined;
  private children: Running[] = [];
  private rows = 0;
  private readonly lastBandDbm = new Map<string, number>();
  /** Lines written to the raw file (with several children, their lines interleave). */
  private fileLines = 0;
  private stopping = false;
  private stopped: CaptureResult | undefined;
  private firstFault: RadioFaultError | undefined;
  private writeFailed = false;
  private firstRow: (() => void) | undefined;
  private startFailed: ((e: RadioFaultError) => void) | undefined;

  constructor(private readonly opts: SweepCaptureOptions) {
    this.name = opts.sdr.name;
    this.file = opts.fileName ?? `radio-${opts.sdr.name}.csv`;
    this.lineTimeoutMs = opts.lineTimeoutMs ?? 5000;
    if (opts.sdr.driver === 'virtual' && !opts.netns && !opts.sdr.command) {
      throw new RadioConfigError(`sdr ${opts.sdr.name}: the virtual SDR needs the drone's namespace`);
    }
  }

  /** The fault that ended the capture early, if any. */
  get fault(): RadioFaultError | undefined {
    return this.firstFault;
  }

  live(): CaptureStats {
    return { records: this.rows, dropped: 0 };
  }

  /** Each band's power in the last sweep row that covered it (dBm; null: no row yet), for the dashboard. */
  bandPowerDbm(): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const b of this.opts.sdr.bands) out[b.name] = this.lastBandDbm.get(b.name) ?? null;
    return out;
  }

  /** Starts the tool(s); resolves at the first complete sweep line, rejects with a rig fault. */
  async start(): Promise<void> {
    const cmds = sweepCommands(this.opts.sdr, this.opts.netns);
    this.fd = openSync(path.join(this.opts.runDir, this.file), 'wx');
    const ready = new Promise<void>((resolve, reject) => {
      this.firstRow = resolve;
      this.startFailed = reject;
    });
    for (const c of cmds) this.spawnOne(c.tool, c.argv);
    this.opts.log?.info({ capture: this.name, argv: cmds.map((c) => c.argv) }, 'radio sweep started');
    try {
      await ready;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private spawnOne(tool: string, argv: string[]): void {
    const proc = new ToolProcess(argv, { env: { TZ: 'UTC' }, stdout: 'pipe' });
    const r: Running = {
      tool,
      proc,
      lines: 0,
      splitter: new LineSplitter((text) => this.onLine(r, text)),
    };
    this.children.push(r);
    proc.child.stdout!.setEncoding('utf8');
    proc.child.stdout!.on('data', (s: string) => r.splitter.push(s));
    this.armTimer(r);
    void proc.exited.then((e) => {
      clearTimeout(r.timer);
      if (this.stopping) return;
      const partial = r.splitter.rest();
      this.fail('AIRLOCK_RADIO_TOOL_EXITED', r.tool, `${proc.describeExit(e)} before it was stopped${partial ? ' (mid-line)' : ''}`);
    });
  }

  private armTimer(r: Running): void {
    clearTimeout(r.timer);
    const ms = r.lines === 0 ? Math.max(this.lineTimeoutMs, this.opts.firstLineTimeoutMs ?? 15_000) : this.lineTimeoutMs;
    r.timer = setTimeout(() => {
      if (this.stopping || !r.proc.running) return;
      this.fail('AIRLOCK_RADIO_TOOL_HUNG', r.tool, r.lines === 0 ? `printed no sweep line within ${ms} ms of starting` : `printed no sweep line for ${ms} ms`);
    }, ms);
    r.timer.unref();
  }

  private onLine(r: Running, text: string): void {
    const line = ++this.fileLines;
    if (this.fd !== undefined && !this.writeFailed) {
      try {
        writeSync(this.fd, text + '\n');
      } catch (err) {
        // A full disk: the lines written so far stay; the tools are stopped and the run safed.
        this.writeFailed = true;
        this.firstFault ??= new RadioFaultError('AIRLOCK_RADIO_TOOL_EXITED', this.name, 'write', `${this.file}: write failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        for (const c of this.children) c.proc.signal('SIGKILL');
        reportWriteError(this.file, err);
        return;
      }
    }
    if (this.stopping) return;
    r.lines++;
    this.armTimer(r);
    const row = parseSweepLine(text, line);
    if (typeof row === 'string') {
      this.fail('AIRLOCK_RADIO_TOOL_GARBAGE', r.tool, `line ${line} of ${this.file} is not sweep output (${row})`);
      return;
    }
    this.rows++;
    for (const b of this.opts.sdr.bands) {
      if (row.highHz < b.lowHz || row.lowHz > b.highHz) continue;
      const p = bandPower(row, b);
      if (p !== undefined) this.lastBandDbm.set(b.name, p);
    }
    this.opts.onRow?.(row);
    if (this.firstRow) {
      this.firstRow();
      this.firstRow = undefined;
      this.startFailed = undefined;
    }
  }

  private fail(code: RadioFaultCode, tool: string, message: string): void {
    if (this.firstFault) return;
    const err = new RadioFaultError(code, this.name, tool, message);
    this.firstFault = err;
    this.opts.log?.warn({ capture: this.name, code, tool, err: message }, 'radio tool fault');
    for (const c of this.children) c.proc.signal('SIGKILL');
    if (this.startFailed) {
      this.startFailed(err);
      this.startFailed = undefined;
      this.firstRow = undefined;
    } else this.opts.onFault?.(err);
  }

  async stop(): Promise<CaptureResult> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    await Promise.all(this.children.map((c) => c.proc.stop()));
    let partial = false;
    for (const c of this.children) {
      clearTimeout(c.timer);
      const rest = c.splitter.rest();
      // The partial last line a killed tool leaves is kept raw (no newline added) and not parsed.
      if (rest && this.fd !== undefined && !this.writeFailed) {
        try {
          writeSync(this.fd, rest);
          partial = true;
        } catch {
          this.writeFailed = true;
        }
      }
    }
    if (this.fd !== undefined) {
      try {
        fsyncSync(this.fd);
      } catch {
        /* the write error was reported when it happened */
      }
      closeSync(this.fd);
      this.fd = undefined;
    }
    const fault = this.firstFault;
    this.stopped = {
      files: [this.file],
      stats: { records: this.rows, dropped: 0 },
      lossy: fault !== undefined,
      ...(fault ? { reason: fault.message } : {}),
    };
    this.opts.log?.info({ capture: this.name, rows: this.rows, partialLastLine: partial }, 'radio sweep stopped');
    return this.stopped;
  }
}

/**
 * Noise floor per band (median over the run of each sweep's highest bin in the band), with
 * every device off. Writes its raw sweep as `radio-<name>-floor.csv`.
 */
export async function measureFloor(opts: SweepCaptureOptions, durationMs: number): Promise<Record<string, number>> {
  const per = new Map<string, number[]>();
  const bands: RigBand[] = opts.sdr.bands;
  for (const b of bands) per.set(b.name, []);
  const seen: { fault?: RadioFaultError } = {};
  const cap = new SweepCapture({
    ...opts,
    fileName: opts.fileName ?? `radio-${opts.sdr.name}-floor.csv`,
    onFault: (e) => (seen.fault = e),
    onRow: (row) => {
      for (const b of bands) {
        const p = bandPower(row, b);
        if (p !== undefined) per.get(b.name)!.push(p);
      }
    },
  });
  await cap.start();
  await new Promise((r) => setTimeout(r, durationMs));
  await cap.stop();
  if (seen.fault) throw seen.fault;
  const out: Record<string, number> = {};
  for (const b of bands) {
    const m = median(per.get(b.name)!);
    if (m === undefined) {
      throw new RadioFaultError('AIRLOCK_RADIO_TOOL_GARBAGE', opts.sdr.name, opts.sdr.driver, `no sweep bin fell inside band ${b.name} while measuring the floor`);
    }
    out[b.name] = Math.round(m * 100) / 100;
  }
  return out;
}
