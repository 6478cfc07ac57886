/**
 * Recovery of a dead run is claimed by one process at a time (src/orchestrator/recover.ts,
 * `claimRecovery`): a run starting, or `airlock recover`, beside another process still
 * recovering the same dead run neither drives that rig's power a second time nor goes on to
 * its own rig before the other has finished. A claim whose holder died is taken over.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverDeadRuns } from '../../src/orchestrator/recover.js';
import { processStartTime } from '../../src/sim/lab/state.js';

const ROOT = fs.mkdtempSync(path.join(tmpdir(), 'airlock-claim-'));
const before = process.env.AIRLOCK_STATE_ROOT;
beforeAll(() => {
  process.env.AIRLOCK_STATE_ROOT = path.join(ROOT, 'state');
});
afterAll(() => {
  if (before === undefined) delete process.env.AIRLOCK_STATE_ROOT;
  else process.env.AIRLOCK_STATE_ROOT = before;
});

const log = pino({ level: 'silent' });

/** A dead run `id`: its owner a pid that has exited, its run directory with a timeline. */
async function deadRun(id: string): Promise<{ state: string; runDir: string }> {
  const gone = spawn('true');
  await new Promise((r) => gone.on('exit', r));
  const state = path.join(ROOT, 'state', id);
  const runDir = path.join(ROOT, 'out', id);
  fs.mkdirSync(path.join(state, 'groups'), { recursive: true });
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(state, 'owner'), `${gone.pid} 1\n`);
  fs.writeFileSync(path.join(state, 'run.json'), JSON.stringify({ runId: id, runDir, rig: 'bench', virtual: false }));
  fs.writeFileSync(path.join(runDir, 'timeline.jsonl'), JSON.stringify({ event: 'run_start', runId: id, scenario: 's', rig: 'bench', time: '2026-01-01T00:00:00.000Z' }) + '\n');
  return { state, runDir };
}

describe('recovery claim', () => {
  it('leaves alone a dead run another live process is recovering, and takes it over once that one dies', async () => {
    const { state, runDir } = await deadRun('aaa111');
    const holder = spawn('sleep', ['60']);
    await new Promise((r) => setTimeout(r, 100));
    fs.writeFileSync(path.join(state, 'recovering'), `${holder.pid} ${processStartTime(holder.pid!)}\n`);
    try {
      const t0 = Date.now();
      expect(await recoverDeadRuns(log, { waitMs: 600 })).toEqual([]);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500); // it waited for the other recovery
      expect(fs.existsSync(path.join(runDir, 'result.json'))).toBe(false);
      expect(fs.existsSync(path.join(state, 'run.json'))).toBe(true);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('exit', r));
    }
    const recs = await recoverDeadRuns(log, { waitMs: 600 });
    expect(recs.map((r) => [r.runId, r.finalised])).toEqual([['aaa111', true]]);
    const result = JSON.parse(fs.readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { verdict: string };
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(fs.existsSync(state)).toBe(false);
  });

  it('returns once the other process has finished the recovery, without touching the run', async () => {
    const { state, runDir } = await deadRun('bbb222');
    fs.writeFileSync(path.join(state, 'recovering'), `${process.pid} ${processStartTime(process.pid)}\n`);
    setTimeout(() => fs.rmSync(state, { recursive: true, force: true }), 300);
    const t0 = Date.now();
    expect(await recoverDeadRuns(log, { waitMs: 20_000 })).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(fs.existsSync(path.join(runDir, 'result.json'))).toBe(false);
  });
});
