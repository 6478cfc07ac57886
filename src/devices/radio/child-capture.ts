/**
 * A capture made by one child process that writes a pcap: either the child writes the file
 * itself (the virtual Wi-Fi monitor, tcpdump on a monitor interface) or it writes the pcap to
 * stdout and we keep it (a BLE sniffer bridge). Stopped by a signal, never by waiting for
 * traffic; a child that exits before it is stopped is a rig fault naming the tool.
 */
import { closeSync, existsSync, fsyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Capture, CaptureResult, CaptureStats } from '../capture/capture.js';
import { readCapture } from '../../analysis/index.js';
import { RadioFaultError } from './errors.js';
import { ToolProcess } from './tool-process.js';
import { reportWriteError } from '../health/index.js';
import { nodeScript } from '../../child-script.js';
import type { RadioLog } from './sweep.js';

export interface ChildCaptureOptions {
  name: string;
  kind: 'wifi' | 'ble';
  /** Tool name for fault messages. */
  tool: string;
  argv: string[];
  runDir: string;
  /** File name inside runDir. */
  file: string;
  /** `stdout`: we write the child's stdout to the file; `self`: the child writes the file (path in argv). */
  output: 'stdout' | 'self';
  /** How start() knows the child is capturing: a line on stdout (`self` only), or the file existing. */
  ready: { line: string } | 'file';
  startTimeoutMs?: number;
  onFault?: (err: RadioFaultError) => void;
  log?: RadioLog;
}

export class ChildCapture implements Capture {
  readonly name: string;
  readonly kind: 'wifi' | 'ble';
  private proc: ToolProcess | undefined;
  private fd: number | undefined;
  private bytes = 0;
  private stopping = false;
  private result: CaptureResult | undefined;
  private fault: RadioFaultError | undefined;
  private writeFailed = false;

  constructor(private readonly o: ChildCaptureOptions) {
    this.name = o.name;
    this.kind = o.kind;
  }

  live(): CaptureStats {
    return { records: 0, dropped: 0 };
  }

  async start(): Promise<void> {
    const full = path.join(this.o.runDir, this.o.file);
    if (this.o.output === 'stdout') this.fd = openSync(full, 'wx');
    const proc = new ToolProcess(this.o.argv, { env: { TZ: 'UTC' }, stdout: 'pipe' });
    this.proc = proc;
    let sawReady = false;
    let buffered = '';
    proc.child.stdout!.on('data', (chunk: Buffer) => {
      if (this.o.output === 'stdout') {
        if (this.fd !== undefined && !this.writeFailed) {
          try {
            writeSync(this.fd, chunk);
          } catch (err) {
            this.writeFailed = true;
            this.setFault(new RadioFaultError('AIRLOCK_RADIO_TOOL_EXITED', this.name, 'write', `${this.o.file}: write failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`), false);
            reportWriteError(this.o.file, err);
          }
        }
        this.bytes += chunk.length;
      } else if (!sawReady) {
        buffered += chunk.toString('utf8');
        if (typeof this.o.ready === 'object' && buffered.includes(this.o.ready.line)) sawReady = true;
      }
    });
    void proc.exited.then((e) => {
      if (this.stopping) return;
      const fault = new RadioFaultError('AIRLOCK_RADIO_TOOL_EXITED', this.name, this.o.tool, `${proc.describeExit(e)} before it was stopped`);
      // A tool that writes its own file and stopped because the disk is full: a disk fault.
      if (/ENOSPC|No space left on device/i.test(proc.stderr())) {
        this.setFault(fault, false);
        reportWriteError(this.o.file, Object.assign(new Error(`${this.o.tool}: no space left on device`), { code: 'ENOSPC' }));
        return;
      }
      this.setFault(fault);
    });
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 5000);
    for (;;) {
      if (this.fault) {
        const f = this.fault;
        await this.stop();
        throw f;
      }
      const ok = this.o.ready === 'file' ? existsSync(full) && (this.o.output === 'self' || this.bytes >= 24) : sawReady;
      if (ok) break;
      if (Date.now() > deadline) {
        const err = new RadioFaultError('AIRLOCK_RADIO_TOOL_HUNG', this.name, this.o.tool, `did not start capturing within ${this.o.startTimeoutMs ?? 5000} ms`);
        this.fault = err;
        await this.stop();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.o.log?.info({ capture: this.name, argv: this.o.argv }, 'radio capture started');
  }

  private setFault(err: RadioFaultError, notify = true): void {
    if (this.fault) return;
    this.fault = err;
    this.o.log?.warn({ capture: this.name, code: err.code, err: err.message }, 'radio capture fault');
    if (notify) this.o.onFault?.(err);
  }

  async stop(): Promise<CaptureResult> {
    if (this.result) return this.result;
    this.stopping = true;
    if (this.proc) await this.proc.stop();
    if (this.fd !== undefined) {
      try {
        fsyncSync(this.fd);
      } catch {
        /* reported when the write failed */
      }
      closeSync(this.fd);
      this.fd = undefined;
    }
    let records = 0;
    let reason = this.fault?.message;
    const full = path.join(this.o.runDir, this.o.file);
    if (existsSync(full)) {
      try {
        const info = await readCapture(full, () => {});
        records = info.packets;
        if (info.damage) reason ??= `${this.o.file} is damaged at byte ${info.damage.offset} (${info.damage.reason})`;
      } catch (e) {
        reason ??= `${this.o.file} is not a readable capture (${(e as Error).message})`;
      }
    } else reason ??= `${this.o.tool} wrote no file`;
    this.result = {
      files: existsSync(full) ? [this.o.file] : [],
      stats: { records, dropped: 0 },
      lossy: reason !== undefined,
      ...(reason ? { reason } : {}),
    };
    this.o.log?.info({ capture: this.name, records }, 'radio capture stopped');
    return this.result;
  }
}

/**
 * The virtual rig's radio capture `kind`: the child `script` (src/sim/radio/, no extension)
 * inside the drone's namespace, capturing its air link and writing `file` itself; it says
 * `ready` once capturing. `args` follow `--out` and `--iface`.
 */
export function virtualRadioCapture(
  o: { name: string; kind: ChildCaptureOptions['kind']; tool: string; script: string; file: string; args?: string[] },
  ctx: { runDir: string; droneNetns?: string; airInterface?: string; onFault?: (err: RadioFaultError) => void; log?: RadioLog },
): ChildCapture {
  if (!ctx.droneNetns) throw new RadioFaultError('AIRLOCK_RADIO_TOOL_START', o.name, o.tool, `the ${o.tool} child needs the drone namespace`);
  return new ChildCapture({
    name: o.name,
    kind: o.kind,
    tool: o.tool,
    argv: [
      'ip', 'netns', 'exec', ctx.droneNetns,
      ...nodeScript(import.meta.url, `../../sim/radio/${o.script}`),
      '--out', path.join(ctx.runDir, o.file), '--iface', ctx.airInterface ?? 'air0', ...(o.args ?? []),
    ],
    runDir: ctx.runDir,
    file: o.file,
    output: 'self',
    ready: { line: 'ready' },
    startTimeoutMs: 10_000,
    onFault: ctx.onFault,
    log: ctx.log,
  });
}
