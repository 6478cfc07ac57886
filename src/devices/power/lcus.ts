/**
 * LCUS-1/2/4/8 USB relay boards (CH340, 9600 baud) as a power switch. The board cannot be
 * asked for its state nor measure anything: read() reports the last state we commanded and
 * null volts and amps (docs-draft/power.md says so).
 */
import type { RigPowerChannel } from '../../config/types.js';
import type { DriverContext } from './context.js';
import type { PowerReading } from './power-channel.js';
import { PowerChannelBase } from './base.js';
import { LcusRelay } from './lcus-relay.js';

export class LcusSwitch extends PowerChannelBase {
  private readonly relay: LcusRelay;
  private state = false;

  constructor(cfg: RigPowerChannel, ctx: DriverContext) {
    super(cfg, ctx.log);
    this.relay = new LcusRelay(cfg.name, cfg.channel, cfg.port, cfg.baudRate, cfg.timeoutMs, ctx);
    if (cfg.volts !== undefined || cfg.currentLimit !== undefined) {
      this.log.warn('a relay cannot program volts or a current limit; the values are ignored');
    }
  }

  protected async setOutput(on: boolean): Promise<void> {
    await this.relay.set(on);
    this.state = on;
  }

  read(): Promise<PowerReading> {
    return Promise.resolve({ on: this.state, volts: null, amps: null });
  }

  close(): Promise<void> {
    return this.relay.close();
  }
}
