/**
 * Every process a run starts belongs to the run (docs/technician/faults.md, "Recovery"): it is started as the leader of its own process group,
 * and the group is recorded as a file under the run's state directory
 * (`/run/airlock/<run-id>/groups/<pgid>`). Nothing is ever orphaned: after a SIGKILL of
 * Airlock the next start (or `airlock recover`) reads the records and kills every group
 * (src/orchestrator/recover.ts). A group of its own also keeps the terminal's Ctrl-C away from
 * the simulators and captures, so that safing, not the signal, decides the order they stop in.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let groupsDir: string | undefined;

/** Where the groups of the current run are recorded (set when the run starts; undefined: not recorded). */
export function recordGroupsIn(dir: string | undefined): void {
  groupsDir = dir;
  if (dir) fs.mkdirSync(dir, { recursive: true });
}

/** spawn() with the child as leader of a new process group, recorded for the run. */
export function spawnInGroup(command: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...opts, detached: true });
  const pid = child.pid;
  if (pid !== undefined && groupsDir) {
    try {
      fs.writeFileSync(path.join(groupsDir, String(pid)), `${startTime(pid) ?? '?'}\n${[command, ...args].join(' ').slice(0, 400)}\n`);
    } catch {
      /* the state dir is gone (the run is ending): nothing left to record it for */
    }
  }
  return child;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or null when gone. */
function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Signals a whole process group; false when none of it is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Live pids (not zombies) whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 4);
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(name));
    } catch {
      /* the process exited between readdir and read: it is in no group any more */
    }
  }
  return out;
}

/**
 * SIGKILLs every group recorded in `dir` (a dead run's `groups/`), waiting (bounded) until
 * none of their members is left. Returns the groups that still had members.
 */
export async function killRecordedGroups(dir: string): Promise<number[]> {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const recordedStart = (g: number) => {
    try {
      return fs.readFileSync(path.join(dir, String(g)), 'utf8').split('\n')[0];
    } catch {
      return undefined;
    }
  };
  // A leader still alive with another start time is a new process that reused the pid: not ours.
  const ours = (g: number) => {
    const now = startTime(g);
    return now === null || now === recordedStart(g);
  };
  const groups = names.map(Number).filter((g) => g > 1 && g !== process.pid && ours(g) && groupMembers(g).length > 0);
  for (let round = 0; round < 50; round++) {
    const alive = groups.filter((g) => groupMembers(g).length > 0);
    if (alive.length === 0) break;
    for (const g of alive) signalGroup(g, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
  return groups;
}
