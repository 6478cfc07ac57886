/**
 * A relay of an LCUS board wired across a device's power button. Presses follow an absolute
 * schedule from the first closure, so the time spent writing a frame never stretches a pattern.
 */
import type { PressPattern, RigButton } from '../../config/types.js';
import type { Button } from './button.js';
import type { DriverContext } from './context.js';
import { PowerConfigError } from './errors.js';
import { sleep } from './base.js';
import { LcusRelay } from './lcus-relay.js';
import { pressTimings } from './press-pattern.js';

export class LcusButton implements Button {
  private readonly relay: LcusRelay;

  constructor(
    private readonly cfg: RigButton,
    private readonly ctx: DriverContext,
  ) {
    this.relay = new LcusRelay(cfg.name, cfg.channel, cfg.port, cfg.baudRate, cfg.timeoutMs, ctx);
  }

  get name(): string {
    return this.cfg.name;
  }

  async press(pattern: PressPattern): Promise<void> {
    const timings = pressTimings(pattern);
    if (timings.length === 0 || timings.some((ms) => !Number.isFinite(ms) || ms <= 0)) {
      throw new PowerConfigError(this.name, `press timings must be positive milliseconds, got [${timings.join(', ')}]`);
    }
    await this.relay.ready();
    const t0 = performance.now();
    let at = 0;
    try {
      for (let i = 0; i < timings.length; i++) {
        const wait = t0 + at - performance.now();
        if (wait > 0) await sleep(wait);
        // Listen for stray bytes only within this segment, so the next frame is never late.
        await this.relay.set(i % 2 === 0, Math.min(this.relay.listenMs, timings[i] / 2));
        at += timings[i];
      }
      const wait = t0 + at - performance.now();
      if (wait > 0) await sleep(wait);
      if (timings.length % 2 === 1) await this.relay.set(false);
    } catch (err) {
      // Never leave a button held: try to release, then report the original fault.
      await this.relay.set(false).catch(() => undefined);
      throw err;
    }
    this.ctx.log.info({ pattern }, 'button pressed');
  }

  close(): Promise<void> {
    return this.relay.close();
  }
}
