/** A button pressed by the technician, who confirms within the button's timeout. */
import type { PressPattern, RigButton } from '../../config/types.js';
import type { Button } from './button.js';
import type { DriverContext } from './context.js';
import { askTechnician } from './manual-prompt.js';
import { describePattern } from './press-pattern.js';

export class ManualButton implements Button {
  constructor(
    private readonly cfg: RigButton,
    private readonly ctx: DriverContext,
  ) {}

  get name(): string {
    return this.cfg.name;
  }

  press(pattern: PressPattern): Promise<void> {
    return askTechnician(
      this.ctx,
      this.name,
      'press',
      `Press the button "${this.name}": ${describePattern(pattern)}, then confirm.`,
      this.cfg.timeoutMs,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
