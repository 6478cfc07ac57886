/**
 * A device action (SIGUSR1) to a firmware given as a compound command reaches the shell's
 * children, and does not kill the wrapping shell (dash dies of an uncaught SIGUSR1, and the
 * firmware would then look switched off while its program runs on).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firmwareStateDir, sendDeviceAction } from '../../src/sim/firmware/firmware-host.js';
import { processStartTime } from '../../src/sim/lab/state.js';

const runId = `t-usr1-${process.pid}`;
const pids: number[] = [];
afterAll(() => {
  for (const p of pids) {
    try {
      process.kill(-p, 'SIGKILL');
    } catch {
      /* the group exited with its test (ESRCH): nothing left to kill */
    }
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('device action to a compound-command firmware', () => {
  it('reaches the program and leaves the wrapping shell running', async () => {
    const dir = firmwareStateDir(runId);
    mkdirSync(dir, { recursive: true });
    const out = path.join(dir, 'usr1.log');
    const script = `trap 'echo USR1 >> ${out}' USR1; while :; do sleep 0.1; done`;
    const child = spawn('sh', ['-c', `sh -c "${script}"; echo after`], { detached: true, stdio: 'ignore' });
    const pid = child.pid!;
    pids.push(pid);
    await sleep(300);
    writeFileSync(path.join(dir, 'drone.json'), JSON.stringify({ powered: true, pid, start: processStartTime(pid), pgid: pid, shell: true }));
    expect(sendDeviceAction(runId, 'drone', 'app: background')).toBe(true);
    await sleep(500);
    expect(alive(pid)).toBe(true);
    expect(existsSync(out) ? readFileSync(out, 'utf8') : '').toContain('USR1');
  });
});
