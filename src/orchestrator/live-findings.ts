/**
 * Binds the live analysis (src/verdict/live.ts) to a run: which files the network captures are
 * writing (new parts when a capture rotates), the phase times the run machine has recorded, and
 * where a finding goes (the progress stream: console and --json; the timeline). run-scenario.ts
 * starts it once the captures run and stops it after they were stopped, before the post-run
 * analysis, which stays the authority.
 */
import type { RigConfig, ScenarioConfig } from '../config/types.js';
import type { Capture } from '../devices/capture/capture.js';
import { LiveAnalyzer, type LiveFinding, type LiveState, type LiveTimes } from '../verdict/index.js';
import type { CanaryHealth } from '../verdict/index.js';
import type { CanarySource } from '../rig/session.js';

export interface LiveRunOptions {
  runDir: string;
  rig: RigConfig;
  scenario: ScenarioConfig;
  capturesStartMs: number;
  canarySecret?: string;
  /** The run's canaries (their sends feed the canary health). */
  canaries?: CanarySource;
  captures: readonly Capture[];
  times: () => LiveTimes;
  onFinding: (f: LiveFinding) => void;
  onState: (state: LiveState, detail?: string) => void;
  onRotated: (r: { capture: string; file: string; index: number }) => void;
}

export interface LiveRun {
  /** Set by the run once the captures' end time is recorded (then the windows are final). */
  capturesEnded: boolean;
  /** The captures are stopped: read them to the end, tell the last findings, stop. */
  stop(): Promise<void>;
  /** Canaries seen and missing so far (src/verdict/canary-health.ts); undefined without canaries. */
  canaryHealth(): CanaryHealth | undefined;
}

/** Starts following every network capture of the run. */
export function startLiveAnalysis(o: LiveRunOptions): LiveRun {
  const network = o.captures.filter((c) => c.kind === 'network');
  const known = new Map<string, number>();
  const discover = () => {
    for (const c of network) {
      const files = c.liveFiles?.() ?? [];
      files.forEach((file, index) => {
        if (known.has(file)) return;
        known.set(file, index);
        live.addFile(file, c.name);
        if (index > 0) o.onRotated({ capture: c.name, file, index });
      });
    }
  };
  const live = new LiveAnalyzer({
    runDir: o.runDir,
    rig: o.rig,
    scenario: o.scenario,
    capturesStartMs: o.capturesStartMs,
    canarySecret: o.canarySecret,
    times: () => {
      discover();
      return o.times();
    },
    onFinding: o.onFinding,
    onState: o.onState,
    ...(o.canaries?.onSent ? { canaries: { capturesFor: (host: string) => o.canaries!.capturesFor(host), onSent: o.canaries.onSent.bind(o.canaries), injectors: o.canaries.injectors?.() } } : {}),
  });
  discover();
  live.start();
  return { capturesEnded: false, stop: () => live.stop(), canaryHealth: () => live.canaryHealth() };
}
