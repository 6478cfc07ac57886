/**
 * Live network capture (libpcap) as a child process per capture, run inside the interface's
 * namespace. The child writes and flushes the pcap file itself; stopping is a signal, never
 * a wait for traffic (docs/developer/dependency-traps.md). Drop counters read at stop, or a child
 * that died early, make the result lossy: every verdict resting on it is INCONCLUSIVE.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnInGroup } from '../../process-groups.js';
import path from 'node:path';
import type pino from 'pino';
import { nodeScript } from '../../child-script.js';
import type { Capture, CaptureResult, CaptureStats } from './capture.js';
import { CaptureDiedError, CaptureStartError } from './errors.js';
import { DiskWriteError, reportFault } from '../health/index.js';

export interface NetworkCaptureOptions {
  name: string;
  /** Network namespace of the interface (virtual rig); omitted = the host's own. */
  netns?: string;
  iface: string;
  /** Absolute path of the pcap file to write. */
  file: string;
  /** Directory `stop()` reports files relative to (default: the file's directory). */
  runDir?: string;
  filter?: string;
  bufferSize: number;
  snaplen: number;
  log?: pino.Logger;
  /** How long stop() waits for the child's final report before SIGKILL (ms, default 5000). */
  stopGraceMs?: number;
  /** Roll over into numbered parts past these limits (rig file `captures.rotate`). */
  rotate?: { bytes?: number; ms?: number };
  /** How long start() waits for libpcap to open (ms, default 15000). */
  startTimeoutMs?: number;
  /** Run once libpcap has the interface open (the virtual rig's `fault: interface_down`). */
  afterStart?: () => Promise<void>;
}

interface ChildMessage {
  ready?: boolean;
  error?: string;
  code?: string;
  writeFailed?: boolean;
  final?: boolean;
  records?: number;
  bytes?: number;
  ps_recv?: number;
  ps_drop?: number;
  ps_ifdrop?: number;
  rotated?: boolean;
  file?: string;
  index?: number;
}

export class NetworkCapture implements Capture {
  readonly kind = 'network' as const;
  readonly name: string;
  private readonly opts: NetworkCaptureOptions;
  private child?: ChildProcess;
  private counters: CaptureStats = { records: 0, dropped: 0 };
  private final?: ChildMessage;
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  private stopping = false;
  /**
   * The child's stdout has ended (its 'close', after 'exit'): only then has every line it wrote
   * been read. Node emits 'exit' before the pipe is drained, so a stop that ended at 'exit' could
   * miss the final statistics line the child wrote just before exiting (seen on a loaded host: a
   * clean stop read as "no final statistics", the capture lossy, the run INCONCLUSIVE).
   */
  private drained = false;
  private result?: CaptureResult;
  private listeners: ((m: ChildMessage) => void)[] = [];
  private stderr = '';
  private started = false;
  private writeError?: ChildMessage;
  /** Parts written so far (absolute), in order: the file, then the rotated parts. */
  private parts: string[] = [];

  constructor(opts: NetworkCaptureOptions) {
    this.opts = opts;
    this.name = opts.name;
  }

  /** Pid of the capture child (tests pause it to force drops). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const o = this.opts;
    const script = nodeScript(import.meta.url, './capture-child');
    const args = [...script, '--iface', o.iface, '--file', o.file, '--buffer-size', String(o.bufferSize), '--snaplen', String(o.snaplen)];
    if (o.filter) args.push('--filter', o.filter);
    if (o.rotate?.bytes) args.push('--rotate-bytes', String(o.rotate.bytes));
    if (o.rotate?.ms) args.push('--rotate-ms', String(o.rotate.ms));
    this.parts = [o.file];
    const argv = o.netns ? ['ip', 'netns', 'exec', o.netns, ...args] : args;
    const child = spawnInGroup(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let m: ChildMessage;
        try {
          m = JSON.parse(line) as ChildMessage;
        } catch {
          continue;
        }
        if (m.records !== undefined) this.counters = { records: m.records, dropped: m.ps_drop ?? this.counters.dropped, ifDropped: m.ps_ifdrop };
        if (m.final) this.final = m;
        if (m.writeFailed) this.writeError = m;
        if (m.rotated && m.file) {
          this.parts.push(m.file);
          o.log?.info({ capture: this.name, file: m.file, index: m.index }, 'capture rotated');
        }
        for (const l of this.listeners.slice()) l(m);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.on('exit', (code, signal) => {
      const at = new Date();
      this.exited = { code, signal };
      if (!this.stopping) o.log?.error({ capture: this.name, code, signal, stderr: this.stderr }, 'capture child died');
      // After start() resolved, a child that ends unasked is a rig fault: safing at once.
      if (!this.stopping && this.started) {
        const w = this.writeError;
        reportFault(
          w ? new DiskWriteError(path.basename(o.file), Object.assign(new Error(w.error ?? 'write failed'), { code: w.code })) : new CaptureDiedError(this.name, `${code !== null ? `exited with code ${code}` : `was killed by ${signal}`} before it was stopped`),
          at,
        );
      }
      for (const l of this.listeners.slice()) l({});
      // stdout normally ends at once; if something else holds the pipe, do not wait for ever.
      setTimeout(() => markDrained(), 2000).unref();
    });
    const markDrained = () => {
      if (this.drained) return;
      this.drained = true;
      for (const l of this.listeners.slice()) l({});
    };
    child.on('close', markDrained);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`libpcap did not open ${o.iface} within ${o.startTimeoutMs ?? 15000} ms`), o.startTimeoutMs ?? 15000);
      const fail = (msg: string) => {
        clearTimeout(timer);
        this.off(listener);
        child.kill('SIGKILL');
        reject(new CaptureStartError(this.name, msg));
      };
      const listener = (m: ChildMessage) => {
        if (m.ready) {
          clearTimeout(timer);
          this.off(listener);
          resolve();
        } else if (m.error) fail(m.error);
        else if (this.exited) {
          const lines = this.stderr.trim().split('\n');
          const why = lines.find((l) => /Error/.test(l)) ?? lines.slice(-3).join(' | ');
          fail(`capture child exited (${this.exited.code ?? this.exited.signal}): ${why}`);
        }
      };
      this.listeners.push(listener);
    });
    this.started = true;
    o.log?.info({ capture: this.name, netns: o.netns, iface: o.iface, file: o.file }, 'capture started');
    await o.afterStart?.();
  }

  private off(l: (m: ChildMessage) => void): void {
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  live(): CaptureStats {
    return { ...this.counters };
  }

  liveFiles(): string[] {
    return this.child ? this.parts.map((f) => path.relative(this.opts.runDir ?? path.dirname(this.opts.file), f)) : [];
  }

  async stop(): Promise<CaptureResult> {
    if (this.result) return this.result;
    const o = this.opts;
    const child = this.child;
    if (!child) {
      this.result = { files: [], stats: { records: 0, dropped: 0 }, lossy: true, reason: 'capture never started' };
      return this.result;
    }
    const diedEarly = this.exited !== undefined;
    this.stopping = true;
    if (!diedEarly) {
      const done = new Promise<void>((resolve) => {
        const l = () => {
          if (this.final || this.drained) {
            this.off(l);
            resolve();
          }
        };
        this.listeners.push(l);
      });
      try {
        child.kill('SIGCONT'); // a paused child could not handle SIGTERM
        child.kill('SIGTERM');
      } catch {
        /* the child exited under us (a signal to it fails): there is nothing left to stop; `done` waits for what it wrote to be drained */
      }
      const grace = setTimeout(() => child.kill('SIGKILL'), o.stopGraceMs ?? 5000);
      await done;
      clearTimeout(grace);
    }
    const f = this.final;
    const stats: CaptureStats = {
      records: f?.records ?? this.counters.records,
      dropped: f?.ps_drop ?? this.counters.dropped,
      ifDropped: f?.ps_ifdrop ?? this.counters.ifDropped,
    };
    const reasons: string[] = [];
    if (this.writeError) reasons.push(`the capture could not be written past packet ${this.writeError.records ?? '?'} (${this.writeError.code ?? this.writeError.error})`);
    else if (diedEarly) reasons.push(`capture child died during the run (${this.exited?.code ?? this.exited?.signal})`);
    else if (!f) reasons.push('capture child gave no final statistics (killed after the grace period)');
    if (stats.dropped > 0) reasons.push(`libpcap dropped ${stats.dropped} packets`);
    if ((stats.ifDropped ?? 0) > 0) reasons.push(`the interface dropped ${stats.ifDropped} packets`);
    this.result = { files: this.liveFiles(), stats, lossy: reasons.length > 0, reason: reasons.length ? reasons.join('; ') : undefined };
    o.log?.info({ capture: this.name, ...this.result }, 'capture stopped');
    return this.result;
  }
}
