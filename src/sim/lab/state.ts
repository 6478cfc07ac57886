/**
 * Per-run state on the host: `/run/airlock/<runId>/` (AIRLOCK_STATE_ROOT overrides the root).
 * `owner` holds "<pid> <starttime>" of the process that built the lab, so a later run can tell a
 * crashed run (owner dead, or its pid reused by another process) from a live one and removes
 * only the former. `netns` lists the namespaces the run made; `firmware/` holds the firmware
 * hosts' process groups so any process (a power simulator child, `down()`) can find them.
 */
import fs from 'node:fs';
import path from 'node:path';

export function stateRoot(): string {
  return process.env.AIRLOCK_STATE_ROOT ?? '/run/airlock';
}

export function runStateDir(runId: string): string {
  return path.join(stateRoot(), runId);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or null when the process is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); starttime is field 22.
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function writeOwner(dir: string, pid = process.pid): void {
  fs.writeFileSync(path.join(dir, 'owner'), `${pid} ${processStartTime(pid) ?? '?'}\n`);
}

/** True when the run's owning process is still the one that wrote `owner`. */
export function ownerAlive(dir: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'owner'), 'utf8');
  } catch {
    return false;
  }
  const [pid, start] = text.trim().split(' ');
  const now = processStartTime(Number(pid));
  return now !== null && now === start;
}

export function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** True when `dir`'s owner is this very process. */
export function ownedByMe(dir: string): boolean {
  try {
    const [pid] = fs.readFileSync(path.join(dir, 'owner'), 'utf8').trim().split(' ');
    return Number(pid) === process.pid && ownerAlive(dir);
  } catch {
    return false;
  }
}
