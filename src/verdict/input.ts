/** What the verdict engine is given: a run's files, configuration, windows and records (it reads, never writes). */
import type { RigConfig, ScenarioConfig } from '../config/types.js';
import type { EndpointCatalogue } from '../analysis/index.js';
import type { SentCanary } from '../analysis/canary.js';
import type { CaptureRecord } from './result.js';
import type { CanaryList } from './canary-list.js';

export interface JudgeInput {
  runDir: string;
  rig: RigConfig;
  scenario: ScenarioConfig;
  /** Phase windows as they ran (epoch ms); endMs absent when a phase never ended. */
  windows: Array<{ startMs?: number; endMs?: number }>;
  /** When the captures started (epoch ms): the first judged instant. */
  capturesStartMs?: number;
  /** End of captures (epoch ms): the last window never extends past it. */
  capturesEndMs: number;
  /** Phases cut short by an abort or a fault (index), and phases never started. */
  incomplete: Set<number>;
  captures: CaptureRecord[];
  /** The canaries sent: canaries.jsonl read into a CanaryList (src/verdict/canary-ledger.ts), or a plain list. */
  canaries?: { secret: string; sent: CanaryList | readonly SentCanary[]; capturesFor: Record<string, string[]> };
  floorsDbm?: Record<string, number>;
  /** Default: the shipped endpoint catalogue. */
  catalogue?: EndpointCatalogue;
}
