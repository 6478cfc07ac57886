/**
 * Runs that outlive their Airlock process (SIGKILL, a crash, the host's power cut) are found
 * and finished here (docs/technician/faults.md, "Recovery"). Every run keeps a state
 * directory `/run/airlock/<run-id>/` with its owner (pid and start time), `run.json` (where
 * its run directory is) and `groups/` (every process group it started). The next run that
 * touches a rig, or `airlock recover`, finds the runs whose owner is dead and for each:
 * switches its rig off through the rig's own drivers (the virtual rig's simulators are still
 * alive: they are process groups of their own), kills every recorded group, removes the lab,
 * and finalises the run directory: result.json INCONCLUSIVE, "interrupted: the Airlock
 * process was killed", at the time of its last timeline entry, then the manifest.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { loadRig } from '../config/index.js';
import { ANALYZER_VERSION } from '../analysis/index.js';
import { writeManifest } from '../evidence/index.js';
import type { RunResult } from '../evidence/result.js';
import { InputError } from '../errors.js';
import { AIRLOCK_VERSION } from '../version.js';
import { killRecordedGroups } from '../process-groups.js';
import { ownerAlive, processStartTime, runStateDir, stateRoot } from '../sim/lab/state.js';

export const INTERRUPTED_REASON = 'interrupted: the Airlock process was killed';

interface RunStateInfo {
  runId: string;
  runDir: string;
  rig: string;
  virtual: boolean;
}

/** Makes the run's state directory, owned by this process; returns its path. */
export function claimRunState(info: RunStateInfo): string {
  const dir = runStateDir(info.runId);
  const tmp = path.join(stateRoot(), `.${info.runId}.${process.pid}.tmp`);
  fs.mkdirSync(path.join(tmp, 'groups'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'owner'), `${process.pid} ${processStartTime(process.pid) ?? '?'}\n`);
  fs.writeFileSync(path.join(tmp, 'run.json'), JSON.stringify(info, null, 2) + '\n');
  fs.renameSync(tmp, dir);
  return dir;
}

/** Removes the run's state directory at its normal end (the virtual lab may have already). */
export function releaseRunState(runId: string): void {
  fs.rmSync(runStateDir(runId), { recursive: true, force: true });
}

export interface Recovery {
  runId: string;
  runDir?: string;
  channelsOff: string[];
  channelsFailed: Array<{ channel: string; error: string }>;
  groupsKilled: number;
  /** True when this recovery wrote the run directory's result.json and manifest. */
  finalised: boolean;
  note?: string;
}

function readInfo(dir: string): RunStateInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunStateInfo;
  } catch {
    return undefined;
  }
}

/** Run ids whose owner is dead and that left a run directory to finalise. */
export function deadRuns(): string[] {
  let ids: string[];
  try {
    ids = fs.readdirSync(stateRoot());
  } catch {
    return [];
  }
  return ids.filter((id) => /^[a-z0-9]{3,12}$/.test(id) && fs.existsSync(path.join(runStateDir(id), 'run.json')) && !ownerAlive(runStateDir(id)));
}

/** How long a recovery waits for another live process recovering the same dead run. */
const RECOVERY_WAIT_MS = 120_000;

/**
 * Claims the recovery of a dead run for this process (`recovering` in its state, made with
 * O_EXCL). Two processes recovering one run at once (two runs starting, or `recover` beside a
 * starting run) would both drive its rig's power; worse, the one that finished first could
 * start powering its own run on that rig while the other still switched it off. False while
 * another live process holds the claim; a claim whose holder died is taken over.
 */
function claimRecovery(state: string): boolean {
  const file = path.join(state, 'recovering');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid} ${processStartTime(process.pid) ?? '?'}\n`, { flag: 'wx' });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false; // the state is gone: recovered meanwhile
      if (code !== 'EEXIST') throw error;
      let holder = '';
      try {
        holder = fs.readFileSync(file, 'utf8');
      } catch {
        /* released meanwhile: claim again */
      }
      const [pid, start] = holder.trim().split(' ');
      const now = pid ? processStartTime(Number(pid)) : null;
      if (now !== null && now === start) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

/**
 * Recovers dead run `id` unless another live process is recovering it; then waits (bounded)
 * until that one has finished, so the caller never touches a rig still being switched off.
 * Undefined when another process recovered it.
 */
async function recoverOrWait(id: string, log: pino.Logger, waitMs: number): Promise<Recovery | undefined> {
  const state = runStateDir(id);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!fs.existsSync(path.join(state, 'run.json'))) return undefined;
    if (claimRecovery(state)) return recoverRun(id, log);
    if (Date.now() >= deadline) {
      log.warn({ runId: id, waitedMs: waitMs }, 'another process is still recovering a dead run; going on without it');
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Recovers every dead run (the start of each run, `airlock recover` without a directory). */
export async function recoverDeadRuns(log: pino.Logger, opts: { waitMs?: number } = {}): Promise<Recovery[]> {
  const out: Recovery[] = [];
  for (const id of deadRuns()) {
    const rec = await recoverOrWait(id, log, opts.waitMs ?? RECOVERY_WAIT_MS);
    if (rec) out.push(rec);
  }
  return out;
}

/** `airlock recover RUN-DIR`: recovers the run that wrote that directory. */
export async function recoverRunDirectory(runDir: string, log: pino.Logger): Promise<Recovery> {
  const abs = path.resolve(runDir);
  if (!fs.existsSync(path.join(abs, 'timeline.jsonl'))) throw new InputError('AIRLOCK_RECOVER_NOT_RUN_DIR', `${runDir} is not a run directory (no timeline.jsonl)`);
  const id = runIdOf(abs);
  const state = id ? runStateDir(id) : undefined;
  if (state && fs.existsSync(state) && ownerAlive(state)) {
    throw new InputError('AIRLOCK_RECOVER_ALIVE', `run ${id} is still running (its Airlock process is alive): stop it with Ctrl-C, not recover`);
  }
  if (id && state && fs.existsSync(path.join(state, 'run.json'))) {
    const rec = await recoverOrWait(id, log, RECOVERY_WAIT_MS);
    return rec ?? { runId: id, runDir: abs, channelsOff: [], channelsFailed: [], groupsKilled: 0, finalised: false, note: 'recovered by another Airlock process meanwhile' };
  }
  // Its state is gone (a reboot clears /run): nothing left to switch off here; finish the directory.
  const finalised = finaliseRunDir(abs, { channelsOff: [], channelsFailed: [], groupsKilled: 0, note: 'no state of the run was left on this host (rebooted?): the rig was not switched off by recovery' });
  return { runId: id ?? '', runDir: abs, channelsOff: [], channelsFailed: [], groupsKilled: 0, finalised };
}

async function recoverRun(id: string, log: pino.Logger): Promise<Recovery> {
  const state = runStateDir(id);
  const info = readInfo(state);
  const rec: Recovery = { runId: id, runDir: info?.runDir, channelsOff: [], channelsFailed: [], groupsKilled: 0, finalised: false };
  // 1. The rig off, through its drivers, while the simulators (virtual rig) are still alive.
  const rigFile = info ? path.join(info.runDir, 'rig.yaml') : undefined;
  if (rigFile && fs.existsSync(rigFile)) {
    try {
      const rig = loadRig(rigFile);
      const bench = path.join(state, 'bench');
      const resolvePort = (port: string) => {
        if (!port.startsWith('sim:')) return port;
        const name = port.slice(4);
        const url = path.join(bench, `${name}.url`);
        if (fs.existsSync(url)) return fs.readFileSync(url, 'utf8').trim();
        return path.join(bench, `${name}.dev`);
      };
      const { switchRigOff } = await import('../rig/open-rig.js');
      const r = await switchRigOff(rig, { log: log.child({ recovering: id }), resolvePort });
      rec.channelsOff = r.channelsOff;
      rec.channelsFailed = r.channelsFailed;
    } catch (error) {
      rec.note = `the rig file of the run could not be loaded: ${(error as Error).message}`;
    }
  } else rec.note = 'the run left no rig file: its rig was not switched off by recovery';
  // 2. Every process the run started, then its lab and state.
  rec.groupsKilled = (await killRecordedGroups(path.join(state, 'groups'))).length;
  if (info?.virtual) {
    const { destroyRun, listNetnsOf } = await import('../sim/lab/recovery.js');
    await destroyRun(id, await listNetnsOf(id, state));
  }
  fs.rmSync(state, { recursive: true, force: true });
  // 3. The run directory, finished as far as it can be.
  if (info?.runDir && fs.existsSync(info.runDir)) rec.finalised = finaliseRunDir(info.runDir, rec);
  log.warn({ recovery: rec }, 'recovered a run whose Airlock process was killed');
  return rec;
}

interface TimelineEntry {
  event: string;
  time?: string;
  [k: string]: unknown;
}

function readTimeline(runDir: string): TimelineEntry[] {
  let text = '';
  try {
    text = fs.readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const out: TimelineEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TimelineEntry);
    } catch {
      /* the torn last line of a killed writer */
    }
  }
  return out;
}

function runIdOf(runDir: string): string | undefined {
  const start = readTimeline(runDir).find((e) => e.event === 'run_start');
  return typeof start?.runId === 'string' ? start.runId : undefined;
}

/** Writes result.json (INCONCLUSIVE, interrupted) and the manifest unless the run already has them. */
function finaliseRunDir(runDir: string, rec: Pick<Recovery, 'channelsOff' | 'channelsFailed' | 'groupsKilled' | 'note'>): boolean {
  fs.rmSync(path.join(runDir, '.reserve'), { force: true });
  const hasResult = fs.existsSync(path.join(runDir, 'result.json'));
  const hasManifest = fs.existsSync(path.join(runDir, 'manifest.json'));
  if (hasResult && hasManifest) return false;
  const timeline = readTimeline(runDir);
  const start = timeline.find((e) => e.event === 'run_start');
  const last = timeline[timeline.length - 1];
  const lastTime = last?.time ?? new Date(fs.statSync(runDir).mtimeMs).toISOString();
  if (!hasResult) {
    const phaseNames = timeline.filter((e) => e.event === 'phase_start').map((e) => String(e.phase));
    const result: RunResult & { interrupted: Record<string, unknown> } = {
      airlockVersion: AIRLOCK_VERSION,
      analyzerVersion: ANALYZER_VERSION,
      runId: typeof start?.runId === 'string' ? start.runId : '',
      scenario: typeof start?.scenario === 'string' ? start.scenario : '',
      rig: typeof start?.rig === 'string' ? start.rig : '',
      startedAt: start?.time ?? lastTime,
      endedAt: lastTime,
      verdict: 'INCONCLUSIVE',
      exitCode: 3,
      complete: false,
      abort: { reason: INTERRUPTED_REASON },
      params: (start?.params as Record<string, string>) ?? {},
      settings: {},
      firmware: (start?.firmware as RunResult['firmware']) ?? [],
      // Phases that started are listed, undecided: the captures were never stopped cleanly nor judged.
      phases: [...new Set(phaseNames)].map((name) => ({ name, verdict: 'INCONCLUSIVE' as const, incomplete: true, assertions: [] })),
      runAssertions: [],
      findings: [],
      captures: [],
      interrupted: {
        lastTimelineEntry: lastTime,
        recoveredAt: new Date().toISOString(),
        channelsOff: rec.channelsOff,
        channelsFailed: rec.channelsFailed,
        processGroupsKilled: rec.groupsKilled,
        ...(rec.note ? { note: rec.note } : {}),
        files: fs.readdirSync(runDir).filter((f) => !f.startsWith('.')).sort(),
      },
    };
    fs.writeFileSync(path.join(runDir, 'result.json'), JSON.stringify(result, null, 2) + '\n', { flag: 'wx' });
  }
  if (!hasManifest) writeManifest(runDir, {});
  return true;
}
