/**
 * What every power channel shares, written once (docs/developer/conventions.md 1): enabling an output only
 * after its limits are programmed and read back, checking the state the device reports after a
 * switch, and cycle timing (off, wait, on). Drivers supply only the protocol.
 */
import type pino from 'pino';
import type { RigPowerChannel } from '../../config/types.js';
import { SerialOpenError, SerialReadTimeout, SerialWriteError } from '../serial/index.js';
import type { PowerChannel, PowerReading, ProgrammablePowerChannel } from './power-channel.js';
import { POWER_CODES, PowerConfigError, PowerFaultError } from './errors.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Off, wait `offMs`, on: the one place cycle timing lives. */
export async function cyclePower(channel: PowerChannel, offMs: number): Promise<void> {
  await channel.off();
  await sleep(offMs);
  await channel.on();
}

/** Tolerance of a read-back: supplies round to their display resolution. */
export function sameSetting(wanted: number, got: number): boolean {
  return Math.abs(wanted - got) <= Math.max(0.011, Math.abs(wanted) * 0.005);
}

/** Turn a serial-layer error into a rig fault naming the channel and the command. */
export function serialFault(device: string, command: string, err: unknown): Error {
  if (err instanceof PowerFaultError) return err;
  if (err instanceof SerialReadTimeout) {
    return err.partial.length === 0
      ? new PowerFaultError(POWER_CODES.noReply, device, command, `no reply within ${err.timeoutMs} ms`, { cause: err })
      : new PowerFaultError(
          POWER_CODES.partialReply,
          device,
          command,
          `incomplete reply ${JSON.stringify(err.partial.toString('latin1'))} (no terminator within ${err.timeoutMs} ms)`,
          { cause: err },
        );
  }
  if (err instanceof SerialOpenError || err instanceof SerialWriteError) {
    return new PowerFaultError(POWER_CODES.port, device, command, err.message, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function badReply(device: string, command: string, reply: string | Buffer, expected: string): PowerFaultError {
  const shown = typeof reply === 'string' ? JSON.stringify(reply) : reply.toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return new PowerFaultError(POWER_CODES.badReply, device, command, `unexpected reply ${shown}, expected ${expected}`);
}

export abstract class PowerChannelBase implements PowerChannel {
  protected readonly log: pino.Logger;

  constructor(
    protected readonly cfg: RigPowerChannel,
    log: pino.Logger,
  ) {
    // The registry's caller hands each driver a logger already bound to its device (docs/developer/conventions.md 8).
    this.log = log;
  }

  get name(): string {
    return this.cfg.name;
  }

  async on(): Promise<void> {
    await this.beforeOn();
    await this.setOutput(true);
    this.log.info({ output: 'on' }, 'power on');
  }

  async off(): Promise<void> {
    await this.setOutput(false);
    this.log.info({ output: 'off' }, 'power off');
  }

  cycle(offMs: number): Promise<void> {
    return cyclePower(this, offMs);
  }

  abstract read(): Promise<PowerReading>;
  abstract close(): Promise<void>;

  /** Switch the output and confirm the state the device reports. */
  protected abstract setOutput(on: boolean): Promise<void>;

  protected beforeOn(): Promise<void> {
    return Promise.resolve();
  }

  protected mismatch(command: string, what: string, wanted: unknown, got: unknown): PowerFaultError {
    return new PowerFaultError(
      POWER_CODES.readbackMismatch,
      this.name,
      command,
      `${what} reads back ${String(got)}, expected ${String(wanted)}`,
    );
  }
}

/** A bench supply: voltage and current limit programmed and read back before every enable. */
export abstract class ProgrammableChannelBase extends PowerChannelBase implements ProgrammablePowerChannel {
  constructor(cfg: RigPowerChannel, log: pino.Logger) {
    super(cfg, log);
    if (cfg.volts === undefined || cfg.currentLimit === undefined) {
      throw new PowerConfigError(cfg.name, `driver ${cfg.driver} needs volts and current_limit: a supply is never enabled unprogrammed`);
    }
  }

  protected override async beforeOn(): Promise<void> {
    await this.setLimits(this.cfg.volts as number, this.cfg.currentLimit as number);
  }

  async setLimits(volts: number, amps: number): Promise<void> {
    await this.writeLimits(volts, amps);
    const back = await this.readLimits();
    if (!sameSetting(volts, back.volts)) throw this.mismatch(back.voltsCommand, 'voltage', volts, back.volts);
    if (!sameSetting(amps, back.amps)) throw this.mismatch(back.ampsCommand, 'current limit', amps, back.amps);
    this.log.info({ volts: back.volts, amps: back.amps }, 'limits programmed and read back');
  }

  protected abstract writeLimits(volts: number, amps: number): Promise<void>;
  /** The programmed settings as the device reports them, with the query that gave each. */
  protected abstract readLimits(): Promise<{ volts: number; amps: number; voltsCommand: string; ampsCommand: string }>;
}
