/** The capture capability: started before the first phase, stopped at safing. */

export interface CaptureStats {
  /** Packets (or records, or sweeps) written. */
  records: number;
  /** Packets libpcap (or the tool) reports dropped; any drop makes the capture lossy. */
  dropped: number;
  /** Packets dropped by the interface/driver, where known. */
  ifDropped?: number;
}

export interface CaptureResult {
  /** Files written, relative to the run directory. */
  files: string[];
  stats: CaptureStats;
  /** True when the capture may have missed something (drops, gaps, a child that died). */
  lossy: boolean;
  /** Why it is lossy, for INCONCLUSIVE verdicts. */
  reason?: string;
}

export interface Capture {
  readonly name: string;
  readonly kind: 'network' | 'radio' | 'wifi' | 'ble' | 'mavlink' | 'power';
  start(): Promise<void>;
  /** Stop, flush and close. Never waits for traffic to arrive. Idempotent. */
  stop(): Promise<CaptureResult>;
  /** Live counters for the progress display. */
  live(): CaptureStats;
  /** Files written so far, relative to the run directory, in order (a rotated capture's parts); for the live analysis. */
  liveFiles?(): string[];
}
