/**
 * Disk space for a run (docs/technician/faults.md, "Disk"). Preflight estimates what the run
 * will write from its durations and the capture rates of earlier runs in the same output
 * directory (or a conservative default) and refuses before anything is powered when the disk
 * is short. During the run a `.reserve` file holds space back; it is freed once the captures
 * are stopped, so result.json, the reports and the manifest can be written even when the disk
 * filled up mid-run (a write error during the run is a rig fault: safing follows).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioConfig } from '../config/types.js';
import { RigFaultError } from '../errors.js';

/** Bytes a second assumed when no earlier run in the output directory says better. */
export const DEFAULT_BYTES_PER_SECOND = 1_000_000;
/** Space held back during the run for result.json, reports and the manifest. */
export const RESERVE_BYTES = 8 * 1024 * 1024;
/** Preflight, safing and analysis on top of the phases' own durations (s). */
const OVERHEAD_S = 30;
/** Earlier runs looked at (the most recent first). */
const EARLIER_RUNS = 10;

export interface DiskEstimate {
  /** Upper bound of the run's duration (s): dwells, wait_for limits, power cycles, overhead. */
  seconds: number;
  bytesPerSecond: number;
  /** Where the rate came from: `default` or the number of earlier runs measured. */
  rateFrom: string;
  /** Bytes the run needs, with a 50 % margin and the reserve. */
  needBytes: number;
  freeBytes: number;
}

/** The longest the scenario's phases can take (s). */
export function scenarioSeconds(scenario: ScenarioConfig): number {
  let ms = 0;
  for (const phase of scenario.phases) {
    for (const step of phase.steps) {
      if (step.kind === 'dwell') ms += step.durationMs;
      else if (step.kind === 'wait_for') ms += step.timeoutMs;
      else if (step.kind === 'power' && step.action === 'cycle') ms += (step.offTimeMs ?? 2000) + step.timeoutMs;
    }
  }
  return ms / 1000 + OVERHEAD_S;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) total += fs.statSync(path.join(dir, e.name)).size;
  }
  return total;
}

/**
 * Bytes a second that earlier finished runs of the same rig wrote in `outDir` (the highest of
 * the last ten), or undefined when there is none.
 */
export function earlierRate(outDir: string, rig: string, exclude?: string): { rate: number; runs: number } | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(outDir).sort().reverse();
  } catch {
    return undefined;
  }
  let best = 0;
  let runs = 0;
  for (const name of entries) {
    if (runs >= EARLIER_RUNS) break;
    const dir = path.join(outDir, name);
    if (exclude && path.resolve(dir) === path.resolve(exclude)) continue;
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as { rig?: string; startedAt?: string; endedAt?: string };
      if (r.rig !== rig || !r.startedAt || !r.endedAt) continue;
      const seconds = (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000;
      if (!(seconds > 1)) continue;
      best = Math.max(best, dirBytes(dir) / seconds);
      runs++;
    } catch {
      /* not a finished run directory */
    }
  }
  return runs > 0 ? { rate: best, runs } : undefined;
}

export function estimateDisk(scenario: ScenarioConfig, rig: string, runDir: string): DiskEstimate {
  const seconds = scenarioSeconds(scenario);
  const earlier = earlierRate(path.dirname(runDir), rig, runDir);
  const bytesPerSecond = earlier?.rate ?? DEFAULT_BYTES_PER_SECOND;
  const st = fs.statfsSync(runDir);
  return {
    seconds,
    bytesPerSecond,
    rateFrom: earlier ? `${earlier.runs} earlier run${earlier.runs === 1 ? '' : 's'}` : 'default',
    needBytes: Math.ceil(seconds * bytesPerSecond * 1.5) + RESERVE_BYTES,
    freeBytes: st.bavail * st.bsize,
  };
}

const mb = (b: number) => `${(b / 1e6).toFixed(b < 10e6 ? 1 : 0)} MB`;

/** Refuses (a rig fault, before anything is powered) when the estimate does not fit. */
export function checkDisk(e: DiskEstimate, runDir: string): string {
  const text = `disk: the run needs about ${mb(e.needBytes)} (up to ${Math.round(e.seconds)} s at ${mb(e.bytesPerSecond)}/s from ${e.rateFrom}, plus margin and a ${mb(RESERVE_BYTES)} reserve); ${mb(e.freeBytes)} free`;
  if (e.freeBytes < e.needBytes) {
    throw new RigFaultError('AIRLOCK_RUN_DISK', 'host', `statfs ${path.dirname(runDir)}`, `not enough space for the run: ${text}. Free some space or choose another --out`);
  }
  return text;
}

/** Space held back in the run directory until the captures are stopped. */
export class DiskReserve {
  private constructor(private readonly file: string | undefined) {}

  /**
   * Writes `.reserve` (real blocks, not a sparse file); on failure holds nothing back. Random
   * bytes, not zeros: a compressing or deduplicating filesystem (btrfs, ZFS) stores zeros in
   * next to no space, and the reserve would free nothing for result.json.
   */
  static create(runDir: string, bytes = RESERVE_BYTES): DiskReserve {
    const file = path.join(runDir, '.reserve');
    const chunk = Buffer.alloc(1024 * 1024);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'wx');
      for (let left = bytes; left > 0; left -= chunk.length) {
        crypto.randomFillSync(chunk); // each chunk its own bytes: no two blocks alike to deduplicate
        fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      }
      fs.fsyncSync(fd);
      return new DiskReserve(file);
    } catch {
      fs.rmSync(file, { force: true });
      return new DiskReserve(undefined);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  get held(): boolean {
    return this.file !== undefined && fs.existsSync(this.file);
  }

  /** Frees the space (idempotent). */
  release(): void {
    if (this.file) fs.rmSync(this.file, { force: true });
  }
}
