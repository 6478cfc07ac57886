/**
 * SCPI bench supplies over serial (the SCPI-99 INSTrument/SOURce/OUTPut/MEASure subsystems, as
 * Rigol, Siglent, Keysight E36xx, R&S HMC and Owon supplies speak them). Commands and replies
 * end in `\n`. Set commands have no reply; every setting is confirmed by its query.
 */
import type { RigPowerChannel } from '../../config/types.js';
import type { PortIO } from '../serial/index.js';
import type { DriverContext } from './context.js';
import type { PowerReading } from './power-channel.js';
import { ProgrammableChannelBase, badReply } from './base.js';
import { SerialLink } from './serial-link.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type At = { command: string };

export class ScpiSupply extends ProgrammableChannelBase {
  private readonly link: SerialLink;
  private readonly timeoutMs: number;

  constructor(cfg: RigPowerChannel, ctx: DriverContext) {
    super(cfg, ctx.log);
    this.link = new SerialLink({ device: cfg.name, port: cfg.port, baudRate: cfg.baudRate ?? 115200 }, ctx);
    this.timeoutMs = cfg.timeoutMs;
  }

  /** Select this channel, then run `fn`: one transaction, so no other channel reselects between. */
  private exchange<T>(first: string, fn: (io: PortIO, at: At) => Promise<T>): Promise<T> {
    return this.link.run(first, async (io, at) => {
      await io.write(`INST:NSEL ${this.cfg.channel}\n`);
      return fn(io, at);
    });
  }

  private async query(io: PortIO, at: At, command: string): Promise<string> {
    at.command = command;
    await io.write(command + '\n');
    return (await io.readLine(this.timeoutMs)).trim();
  }

  private async queryNumber(io: PortIO, at: At, command: string): Promise<number> {
    const reply = await this.query(io, at, command);
    if (!NUMBER.test(reply)) throw badReply(this.name, command, reply, 'a number');
    return Number(reply);
  }

  private async queryOutput(io: PortIO, at: At): Promise<boolean> {
    const reply = (await this.query(io, at, 'OUTP?')).toUpperCase();
    if (reply === '1' || reply === 'ON') return true;
    if (reply === '0' || reply === 'OFF') return false;
    throw badReply(this.name, 'OUTP?', reply, '0 or 1');
  }

  /** `*IDN?`, for preflight. */
  identify(): Promise<string> {
    return this.link.run('*IDN?', async (io, at) => {
      const reply = await this.query(io, at, '*IDN?');
      if (!/^[\x20-\x7e]+$/.test(reply) || reply.split(',').length < 2) {
        throw badReply(this.name, '*IDN?', reply, 'maker,model,serial,version');
      }
      return reply;
    });
  }

  protected async writeLimits(volts: number, amps: number): Promise<void> {
    const vcmd = `VOLT ${volts.toFixed(3)}`;
    await this.exchange(vcmd, async (io, at) => {
      await io.write(vcmd + '\n');
      at.command = `CURR ${amps.toFixed(3)}`;
      await io.write(at.command + '\n');
    });
  }

  protected readLimits() {
    return this.exchange('VOLT?', async (io, at) => {
      const volts = await this.queryNumber(io, at, 'VOLT?');
      const amps = await this.queryNumber(io, at, 'CURR?');
      return { volts, amps, voltsCommand: 'VOLT?', ampsCommand: 'CURR?' };
    });
  }

  protected async setOutput(on: boolean): Promise<void> {
    const command = on ? 'OUTP ON' : 'OUTP OFF';
    const state = await this.exchange(command, async (io, at) => {
      await io.write(command + '\n');
      return this.queryOutput(io, at);
    });
    if (state !== on) throw this.mismatch('OUTP?', 'output', on ? 1 : 0, state ? 1 : 0);
  }

  read(): Promise<PowerReading> {
    return this.exchange('OUTP?', async (io, at) => {
      const on = await this.queryOutput(io, at);
      const volts = await this.queryNumber(io, at, 'MEAS:VOLT?');
      const amps = await this.queryNumber(io, at, 'MEAS:CURR?');
      return { on, volts, amps };
    });
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
