/**
 * A channel's handle on its (possibly shared) serial port: resolves `sim:NAME` and opens the
 * pooled port on first use, and turns serial-layer errors into rig faults naming the channel
 * and the command.
 */
import { acquirePort, type PortIO, type SharedPort } from '../serial/index.js';
import type { DriverContext } from './context.js';
import { PowerConfigError } from './errors.js';
import { serialFault } from './base.js';

export interface SerialLinkOptions {
  device: string;
  port: string | undefined;
  baudRate: number;
  minGapMs?: number;
}

export class SerialLink {
  private shared: SharedPort | null = null;

  constructor(
    private readonly opts: SerialLinkOptions,
    private readonly ctx: DriverContext,
  ) {
    if (!opts.port) throw new PowerConfigError(opts.device, 'no port given');
  }

  /**
   * Run one exchange. `at.command` names it in any fault; an exchange of several commands
   * updates it before each, so a fault names the command that was waiting for its reply.
   */
  async run<T>(first: string, fn: (io: PortIO, at: { command: string }) => Promise<T>): Promise<T> {
    const at = { command: first };
    try {
      if (!this.shared || this.shared.closed) {
        this.shared = acquirePort({
          path: this.ctx.resolvePort(this.opts.port as string),
          baudRate: this.opts.baudRate,
          minGapMs: this.opts.minGapMs,
        }, this.opts.device);
      }
      return await this.shared.transaction((io) => fn(io, at));
    } catch (err) {
      throw serialFault(this.opts.device, at.command, err);
    }
  }

  /** Open the port now (so the first timed write does not pay for opening it). */
  ready(command: string): Promise<void> {
    return this.run(command, () => Promise.resolve());
  }

  async close(): Promise<void> {
    const s = this.shared;
    this.shared = null;
    await s?.release();
  }
}
