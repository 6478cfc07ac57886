/**
 * One physical serial port, shared by every channel wired to it (a 4-relay board switching the
 * phone and pressing two buttons; a dual-output supply). The pool opens each path once and runs
 * one transaction at a time on it, so a query and its reply are never interleaved with another
 * channel's. Pacing (a minimum gap between writes) is a property of the port, because the device
 * frames commands by silence (Korad), not of any one channel.
 */
import { SerialPort } from 'serialport';
import { SerialConfigError, SerialLostError, SerialOpenError, SerialReadTimeout, SerialWriteError } from './errors.js';
import { reportFault } from '../health/index.js';

export interface SerialSettings {
  path: string;
  baudRate: number;
  /** Minimum time between the end of one write and the start of the next (ms). */
  minGapMs?: number;
}

/** What a transaction may do with the port while it holds it. */
export interface PortIO {
  readonly path: string;
  /** Write and wait until the OS has taken the bytes (paced by `minGapMs`). */
  write(data: Buffer | string): Promise<void>;
  /** Read up to and excluding `\n` (a trailing `\r` is dropped). Throws SerialReadTimeout. */
  readLine(timeoutMs: number): Promise<string>;
  /**
   * Read a reply that has no terminator: wait up to `timeoutMs` for the first byte, then collect
   * until `maxLen` bytes or `idleMs` without a byte. Throws SerialReadTimeout when nothing came.
   */
  readFrame(timeoutMs: number, opts: { maxLen: number; idleMs: number }): Promise<Buffer>;
  /** Collect whatever arrives within `ms` (possibly nothing). */
  collect(ms: number): Promise<Buffer>;
  /** Drop bytes received so far (stale replies from an earlier timed-out command). */
  discardInput(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SharedPort {
  private port: SerialPort | null = null;
  private opening: Promise<SerialPort> | null = null;
  private rx: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lastWriteEnd = 0;
  private users = 0;
  /** Set by close(): a holder must acquire the path again (closeAllPorts at the end of a run). */
  closed = false;
  /** Names of the channels wired to this port (for the fault a lost port reports). */
  readonly devices = new Set<string>();
  readonly io: PortIO;

  constructor(readonly settings: SerialSettings) {
    const self = this;
    this.io = {
      path: settings.path,
      write: (d) => self.write(d),
      readLine: (t) => self.readLine(t),
      readFrame: (t, o) => self.readFrame(t, o),
      collect: (ms) => self.collect(ms),
      discardInput: () => {
        self.rx = Buffer.alloc(0);
      },
    };
  }

  /** Run `fn` with exclusive use of the port (opened on first use). Stale input is dropped first. */
  transaction<T>(fn: (io: PortIO) => Promise<T>): Promise<T> {
    const run = async () => {
      await this.ensureOpen();
      this.rx = Buffer.alloc(0);
      return fn(this.io);
    };
    const p = this.queue.then(run, run);
    // The queue only orders commands: each caller gets its own command's error through `p`,
    // so the queue itself must not carry it on to the next command.
    this.queue = p.catch(() => undefined);
    return p;
  }

  retain(): void {
    this.users++;
  }

  /** Drop one user; the last one closes the port. */
  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    // An open that failed was already reported to the command that awaited it: nothing to close.
    const port = this.port ?? (this.opening ? await this.opening.catch(() => null) : null);
    this.port = null;
    this.opening = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    if (pool.get(this.settings.path) === this) pool.delete(this.settings.path);
  }

  private ensureOpen(): Promise<SerialPort> {
    if (this.port?.isOpen) return Promise.resolve(this.port);
    if (this.opening) return this.opening;
    const { path, baudRate } = this.settings;
    this.opening = new Promise<SerialPort>((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => {
        if (err) return reject(new SerialOpenError(path, { cause: err }));
        port.on('data', (chunk: Buffer) => {
          this.rx = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
          const w = this.wake;
          this.wake = null;
          w?.();
        });
        port.on('error', () => undefined);
        port.on('close', (why: unknown) => {
          if (this.port === port) {
            // The next transaction opens the path again (a re-enumerated device is used again).
            this.port = null;
            this.opening = null;
          }
          // Closed without close(): the device went away. Reported at once on the health
          // channel; the next transaction reopens the path if the device came back.
          if (!this.closed) reportFault(new SerialLostError(path, [...this.devices], why));
        });
        this.port = port;
        resolve(port);
      });
    });
    this.opening.catch(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async write(data: Buffer | string): Promise<void> {
    const gap = this.settings.minGapMs ?? 0;
    const wait = this.lastWriteEnd + gap - Date.now();
    if (gap > 0 && wait > 0) await sleep(wait);
    const port = this.port;
    const path = this.settings.path;
    if (!port?.isOpen) throw new SerialWriteError(path, { cause: new Error('port is closed') });
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => {
        if (err) return reject(new SerialWriteError(path, { cause: err }));
        port.drain((err2) => (err2 ? reject(new SerialWriteError(path, { cause: err2 })) : resolve()));
      });
    });
    this.lastWriteEnd = Date.now();
  }

  /** Wait until new data arrives or `deadline` (epoch ms) passes; false on deadline. */
  private waitData(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, left);
      this.wake = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  }

  private async readLine(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.rx.indexOf(0x0a);
      if (nl >= 0) {
        let line = this.rx.subarray(0, nl);
        this.rx = this.rx.subarray(nl + 1);
        if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        return line.toString('latin1');
      }
      if (!(await this.waitData(deadline))) {
        const partial = this.rx;
        this.rx = Buffer.alloc(0);
        throw new SerialReadTimeout(this.settings.path, partial, timeoutMs);
      }
    }
  }

  private async readFrame(timeoutMs: number, opts: { maxLen: number; idleMs: number }): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.rx.length === 0) {
      if (!(await this.waitData(deadline))) throw new SerialReadTimeout(this.settings.path, Buffer.alloc(0), timeoutMs);
    }
    while (this.rx.length < opts.maxLen) {
      if (!(await this.waitData(Math.min(deadline, Date.now() + opts.idleMs)))) break;
    }
    const n = Math.min(this.rx.length, opts.maxLen);
    const frame = Buffer.from(this.rx.subarray(0, n));
    this.rx = this.rx.subarray(n);
    return frame;
  }

  private async collect(ms: number): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (await this.waitData(deadline));
    const got = this.rx;
    this.rx = Buffer.alloc(0);
    return got;
  }
}

const pool = new Map<string, SharedPort>();

/**
 * The shared port for `settings.path`, opened lazily on its first transaction. Every caller
 * must `release()` it once. A second caller asking for another baud rate is a config error.
 */
export function acquirePort(settings: SerialSettings, device?: string): SharedPort {
  let port = pool.get(settings.path);
  if (!port) {
    port = new SharedPort(settings);
    pool.set(settings.path, port);
  } else if (port.settings.baudRate !== settings.baudRate) {
    throw new SerialConfigError(
      `${settings.path} is used at ${port.settings.baudRate} baud and at ${settings.baudRate} baud; one port has one rate`,
    );
  } else if ((settings.minGapMs ?? 0) > (port.settings.minGapMs ?? 0)) {
    port.settings.minGapMs = settings.minGapMs;
  }
  port.retain();
  if (device) port.devices.add(device);
  return port;
}

/** Close every pooled port (safing, end of run, tests). */
export async function closeAllPorts(): Promise<void> {
  await Promise.all([...pool.values()].map((p) => p.close()));
  pool.clear();
}
