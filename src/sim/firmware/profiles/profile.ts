import type { FirmwareContext } from '../context.js';

/**
 * A built-in firmware profile. Every profile first runs the clean device's lab traffic
 * (lab-traffic.ts); `powered` adds what it does on top while powered. On a soft power-off
 * (SIGTERM) everything stops, `atSoftOff` runs (what the firmware does as it shuts down), and
 * the main process exits; `afterSoftOff`, when present, runs in a child left behind in the same
 * process group (what the firmware "keeps running").
 */
export interface FirmwareProfile {
  summary: string;
  powered?(ctx: FirmwareContext): void;
  afterSoftOff?(ctx: FirmwareContext): void;
  /** Runs at the soft power-off itself, before the main process exits (awaited, 5 s at most). */
  atSoftOff?(ctx: FirmwareContext): Promise<void>;
}
