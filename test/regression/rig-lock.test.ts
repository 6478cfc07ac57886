import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRigLock, readLockHolder, withRigLock } from '../../src/rig/rig-lock.js';
import { RigBusyError } from '../../src/regression/errors.js';

const require = createRequire(import.meta.url);
const tsx = require.resolve('tsx');
const holderScript = path.resolve(__dirname, '../fixtures/regression/lock-holder.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-lock-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a process that takes the lock; resolves when it says it holds it. */
function startHolder(rig: string, holdMs = 30_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', tsx, holderScript, rig, dir, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('held')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
  });
}

describe('rig lock', () => {
  it('a second job times out with a rig error naming the holder (pid, host, command, since)', async () => {
    const holder = await startHolder('bench-a');
    const t0 = Date.now();
    const err = await acquireRigLock('bench-a', { dir, waitMs: 400 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = Date.now() - t0;
    expect(err).toBeInstanceOf(RigBusyError);
    const busy = err as RigBusyError;
    expect(busy.category).toBe('rig'); // -> exit 4
    expect(busy.code).toBe('AIRLOCK_RIG_BUSY');
    expect(busy.holder?.pid).toBe(holder.pid);
    expect(busy.message).toContain(`pid ${holder.pid}`);
    expect(busy.message).toContain(os.hostname());
    expect(busy.message).toContain('lock-holder bench-a');
    expect(busy.message).toMatch(/since \d{4}-\d\d-\d\dT/);
    expect(waited).toBeGreaterThanOrEqual(350);
    expect(waited).toBeLessThan(5000);
    holder.kill('SIGKILL');
  });

  it('a holder killed with SIGKILL releases the rig', async () => {
    const holder = await startHolder('bench-b');
    await expect(acquireRigLock('bench-b', { dir, waitMs: 0 })).rejects.toBeInstanceOf(RigBusyError);
    const t0 = Date.now();
    const waiting = acquireRigLock('bench-b', { dir, waitMs: 10_000 });
    setTimeout(() => holder.kill('SIGKILL'), 300);
    const lock = await waiting;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readLockHolder('bench-b', dir)?.pid).toBe(process.pid);
    await lock.release();
    // released: another process can take it at once
    const next = await startHolder('bench-b', 200);
    await new Promise((r) => next.on('exit', r));
  });

  it('different rigs do not block each other; re-entrant inside withRigLock, queued outside it', async () => {
    const holder = await startHolder('bench-c');
    const order: string[] = [];
    const outer = withRigLock('bench-d', { dir, waitMs: 0 }, async () => {
      order.push('outer');
      const again = await acquireRigLock('bench-d', { dir, waitMs: 0 }); // nested: re-entrant
      await again.release();
      // still held by us after the inner release: another process cannot take it
      expect(await acquireRigLockInChild('bench-d')).toBe('busy');
      await new Promise((r) => setTimeout(r, 400));
      order.push('outer-done');
    });
    await new Promise((r) => setTimeout(r, 100));
    // a concurrent job in this same process (not nested in the first) must wait for it
    const concurrent = withRigLock('bench-d', { dir, waitMs: 5000 }, async () => void order.push('concurrent'));
    await Promise.all([outer, concurrent]);
    expect(order).toEqual(['outer', 'outer-done', 'concurrent']);
    expect(await acquireRigLockInChild('bench-d')).toBe('ok');
    holder.kill('SIGKILL');
  });
});

/** Tries the lock from another process with no wait: 'ok' or 'busy'. */
function acquireRigLockInChild(rig: string): Promise<string> {
  const file = path.join(dir, `${rig}.lock`);
  return new Promise((resolve) => {
    const c = spawn('flock', ['-n', '-E', '75', file, 'true']);
    c.on('exit', (code) => resolve(code === 0 ? 'ok' : code === 75 ? 'busy' : `code ${code}`));
  });
}
