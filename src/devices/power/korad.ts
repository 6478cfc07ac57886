/**
 * Korad/Tenma (KA3005P, 72-2540 and relatives) serial dialect: `VSET1:12.00`, `ISET1:1.000`,
 * `OUT1`/`OUT0`, queries `VSET1?`, `ISET1?`, `VOUT1?`, `IOUT1?`, `STATUS?`, `*IDN?`.
 * Nothing is terminated: the supply frames a command by the silence after it, so writes are
 * paced (50 ms between commands) and replies are framed by an idle gap or a length.
 */
import type { RigPowerChannel } from '../../config/types.js';
import type { PortIO } from '../serial/index.js';
import type { DriverContext } from './context.js';
import type { PowerReading } from './power-channel.js';
import { POWER_CODES, PowerFaultError } from './errors.js';
import { ProgrammableChannelBase, badReply } from './base.js';
import { SerialLink } from './serial-link.js';

/** Time the supply needs between commands (its command framing is by silence). */
export const KORAD_PACING_MS = 50;
/** A reply is complete after this long without a byte (9600 baud: ~1 ms per byte). */
const REPLY_IDLE_MS = 25;
/** STATUS? bit 6: output enabled. */
const STATUS_OUTPUT = 0x40;
const VALUE = /^\d+\.\d+$/;

type At = { command: string };

export class KoradSupply extends ProgrammableChannelBase {
  private readonly link: SerialLink;
  private readonly timeoutMs: number;
  private readonly ch: number;

  constructor(cfg: RigPowerChannel, ctx: DriverContext) {
    super(cfg, ctx.log);
    this.link = new SerialLink(
      { device: cfg.name, port: cfg.port, baudRate: cfg.baudRate ?? 9600, minGapMs: KORAD_PACING_MS },
      ctx,
    );
    this.timeoutMs = cfg.timeoutMs;
    this.ch = cfg.channel;
    if (cfg.channel > 1) this.log.warn({ channel: cfg.channel }, 'OUT1/OUT0 switch every output of a Korad supply together');
  }

  /**
   * `maxLen` ends a reply of known length at once instead of after the idle gap; replies whose
   * length varies between firmware versions (VSET?/ISET? on some units add a byte) use the gap.
   */
  private async query(io: PortIO, at: At, command: string, maxLen = 32): Promise<Buffer> {
    at.command = command;
    io.discardInput(); // a late byte of the previous reply must not prefix this one
    await io.write(command);
    return io.readFrame(this.timeoutMs, { maxLen, idleMs: REPLY_IDLE_MS });
  }

  /** Values come as `12.00` / `1.000`; a shorter digits-only prefix is half a reply. */
  private async queryValue(io: PortIO, at: At, command: string, maxLen = 32): Promise<number> {
    const reply = (await this.query(io, at, command, maxLen)).toString('latin1');
    if (VALUE.test(reply) && reply.length >= 4) return Number(reply);
    if (/^[\d.]{1,3}$/.test(reply)) {
      throw new PowerFaultError(POWER_CODES.partialReply, this.name, command, `incomplete reply ${JSON.stringify(reply)}`);
    }
    throw badReply(this.name, command, reply, 'a value like 12.00 or 1.000');
  }

  private async queryOutput(io: PortIO, at: At): Promise<boolean> {
    // One byte, then listen one idle gap more: a longer reply is not a status byte.
    const reply = await this.query(io, at, 'STATUS?', 1);
    const extra = await io.collect(REPLY_IDLE_MS);
    if (extra.length > 0) throw badReply(this.name, 'STATUS?', Buffer.concat([reply, extra]), 'one status byte');
    if (reply.length !== 1) throw badReply(this.name, 'STATUS?', reply, 'one status byte');
    return (reply[0] & STATUS_OUTPUT) !== 0;
  }

  identify(): Promise<string> {
    return this.link.run('*IDN?', async (io, at) => {
      const reply = (await this.query(io, at, '*IDN?', 64)).toString('latin1').trim();
      if (!/^[\x20-\x7e]{4,}$/.test(reply)) throw badReply(this.name, '*IDN?', reply, 'a model string');
      return reply;
    });
  }

  protected async writeLimits(volts: number, amps: number): Promise<void> {
    const vcmd = `VSET${this.ch}:${volts.toFixed(2)}`;
    await this.link.run(vcmd, async (io, at) => {
      await io.write(vcmd);
      at.command = `ISET${this.ch}:${amps.toFixed(3)}`;
      await io.write(at.command);
    });
  }

  protected readLimits() {
    const voltsCommand = `VSET${this.ch}?`;
    const ampsCommand = `ISET${this.ch}?`;
    return this.link.run(voltsCommand, async (io, at) => {
      const volts = await this.queryValue(io, at, voltsCommand);
      const amps = await this.queryValue(io, at, ampsCommand);
      return { volts, amps, voltsCommand, ampsCommand };
    });
  }

  protected async setOutput(on: boolean): Promise<void> {
    // The dialect has one output switch (OUT1/OUT0) for the whole supply.
    const command = on ? 'OUT1' : 'OUT0';
    const state = await this.link.run(command, async (io, at) => {
      await io.write(command);
      return this.queryOutput(io, at);
    });
    if (state !== on) throw this.mismatch('STATUS?', 'output', on ? 'on' : 'off', state ? 'on' : 'off');
  }

  read(): Promise<PowerReading> {
    return this.link.run('STATUS?', async (io, at) => {
      const on = await this.queryOutput(io, at);
      // Measured values are always 5 characters (`12.00`, `1.000`).
      const volts = await this.queryValue(io, at, `VOUT${this.ch}?`, 5);
      const amps = await this.queryValue(io, at, `IOUT${this.ch}?`, 5);
      return { on, volts, amps };
    });
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
