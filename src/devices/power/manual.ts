/**
 * A channel switched by the technician: each switch is a prompt that must be confirmed within
 * the channel's timeout. Nothing can be measured; read() reports the last confirmed state.
 */
import type { RigPowerChannel } from '../../config/types.js';
import type { DriverContext } from './context.js';
import type { PowerReading } from './power-channel.js';
import { PowerChannelBase } from './base.js';
import { askTechnician } from './manual-prompt.js';

export class ManualChannel extends PowerChannelBase {
  private state = false;

  constructor(
    cfg: RigPowerChannel,
    private readonly ctx: DriverContext,
  ) {
    super(cfg, ctx.log);
  }

  protected async setOutput(on: boolean): Promise<void> {
    const limits =
      on && this.cfg.volts !== undefined
        ? ` at ${this.cfg.volts} V` + (this.cfg.currentLimit !== undefined ? `, current limit ${this.cfg.currentLimit} A` : '')
        : '';
    await askTechnician(
      this.ctx,
      this.name,
      on ? 'on' : 'off',
      `Switch power channel "${this.name}" ${on ? 'ON' + limits : 'OFF'}, then confirm.`,
      this.cfg.timeoutMs,
    );
    this.state = on;
  }

  read(): Promise<PowerReading> {
    return Promise.resolve({ on: this.state, volts: null, amps: null });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
