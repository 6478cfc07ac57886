import type { PressPattern } from '../../config/types.js';

/** The button capability: a relay (or a technician) across a device's power button. */
export interface Button {
  readonly name: string;
  press(pattern: PressPattern): Promise<void>;
  close(): Promise<void>;
}
