/**
 * `run` reading the gateway sinkhole's log through the rig option lab.sinkhole_log (the shared-
 * directory form), on the virtual rig: its sinkhole writes where a gateway's would, and `run`
 * fetches the run's span into the run directory as evidence and checks it like the virtual rig's
 * own. A clean run gives PASS; the sinkhole paused for longer than its heartbeat tolerance in the
 * middle of a run (SIGSTOP, a gap in its log) gives INCONCLUSIVE naming the gap; a fetched record
 * no capture holds, a log that could not be read, and heartbeats saying the gateway forwarded give
 * INCONCLUSIVE on re-analysis.
 *
 * The SSH form is tested against a real sshd in a namespace (test/lab/ssh-fetch.test.ts), and its
 * command line in test/analysis/sinkhole-log.test.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSinkholeLog } from '../../src/analysis/sinkhole-log.js';
import { reanalyzeRun } from '../../src/verdict/index.js';
import { BIN, readResult, runDirOf, tempOut, type AirlockRun } from '../utils/airlock.js';

const tmp = tempOut('airlock-gw-run-');
const shared = path.join(tmp, 'shared');
mkdirSync(shared);

/** rig/virtual.yaml with the sinkhole's log in a "shared directory" of its own. */
function rigWithLog(logFile: string): string {
  const text = readFileSync('rig/virtual.yaml', 'utf8');
  const withLog = text.replace('  names: [update.lab]\n', `  names: [update.lab]\n  sinkhole_log: { path: ${logFile} }\n`);
  expect(withLog).not.toBe(text);
  const f = path.join(tmp, `rig-${path.basename(logFile, '.jsonl')}.yaml`);
  writeFileSync(f, withLog);
  return f;
}

function run(args: string[], onSpawn?: () => void): Promise<AirlockRun> {
  // A short heartbeat (500 ms: a gap is 3 s without one), so a pause of a few seconds shows.
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIRLOCK_SINKHOLE_HEARTBEAT_MS: '500' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  onSpawn?.();
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function pidsOf(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Reasoned = { verdict: string; reason?: string };
const reasons = (r: { phases: Array<{ assertions: Reasoned[] }> }) => r.phases.flatMap((p) => p.assertions.map((a) => a.reason ?? '')).join('\n');

describe('run reads the gateway sinkhole log (lab.sinkhole_log, shared directory)', () => {
  let cleanDir = '';
  const cleanLog = path.join(shared, 'clean.jsonl');

  beforeAll(async () => {
    const r = await run(['run', 'scenarios/standby-on-ground.yaml', '--rig', rigWithLog(cleanLog), '--out', tmp, '--set', 'standby=6s']);
    expect(r.stderr).not.toMatch(/internal error/);
    cleanDir = runDirOf(r);
  }, 180_000);

  it('a clean run: PASS, the run span of the shared log is evidence in the run directory and the manifest', async () => {
    const result = readResult(cleanDir);
    expect(result.verdict).toBe('PASS');
    const fetched = JSON.parse(readFileSync(path.join(cleanDir, 'sinkhole-fetch.json'), 'utf8'));
    expect(fetched).toMatchObject({ source: cleanLog, rejected: 0 });
    expect(fetched.error).toBeUndefined();
    const kept = parseSinkholeLog(readFileSync(path.join(cleanDir, 'sinkhole.jsonl'), 'utf8'));
    expect(kept.records.length).toBeGreaterThan(0); // the DNS canaries at least
    expect(kept.liveness.length).toBeGreaterThan(5);
    // The virtual sinkhole was given time to write its stop line when the lab went down.
    expect(parseSinkholeLog(readFileSync(cleanLog, 'utf8')).liveness.at(-1)).toMatchObject({ event: 'stop' });
    const manifest = readFileSync(path.join(cleanDir, 'manifest.json'), 'utf8');
    expect(manifest).toContain('sinkhole.jsonl');
    expect(manifest).toContain('sinkhole-fetch.json');
    expect((await reanalyzeRun(cleanDir)).verdict).toBe('PASS');
  });

  it('a fetched record no capture holds, a line that is not a record, and a log that could not be read: INCONCLUSIVE, naming why', async () => {
    const witness = path.join(tmp, 'witness');
    cpSync(cleanDir, witness, { recursive: true });
    const result = readResult(cleanDir);
    const t = Date.parse(result.phases.find((p) => p.name === 'standby')!.startedAt ?? result.startedAt) + 1000;
    const extra = { time: new Date(t).toISOString(), t, proto: 'tcp', src: '10.231.0.10', srcPort: 41000, dst: '203.0.113.50', dstPort: 443 };
    writeFileSync(path.join(witness, 'sinkhole.jsonl'), readFileSync(path.join(witness, 'sinkhole.jsonl'), 'utf8') + JSON.stringify(extra) + '\n');
    const a = await reanalyzeRun(witness);
    expect(a.verdict).toBe('INCONCLUSIVE');
    expect(reasons(a)).toContain(`the sinkhole saw tcp 10.231.0.10 -> 203.0.113.50:443 at ${extra.time} but no capture holds it`);

    // A line in the stored evidence that is not a sinkhole record: not trusted, and not ignored either.
    const foreign = path.join(tmp, 'foreign');
    cpSync(cleanDir, foreign, { recursive: true });
    writeFileSync(path.join(foreign, 'sinkhole.jsonl'), readFileSync(path.join(foreign, 'sinkhole.jsonl'), 'utf8') + '{"proto":"tcp","note":"not the sinkhole"}\n');
    const f = await reanalyzeRun(foreign);
    expect(f.verdict).toBe('INCONCLUSIVE');
    expect(reasons(f)).toMatch(/sinkhole\.jsonl holds 1 line\(s\) that are not sinkhole records \(first: line \d+, not a sinkhole record\)/);

    const unread = path.join(tmp, 'unread');
    cpSync(cleanDir, unread, { recursive: true });
    rmSync(path.join(unread, 'sinkhole.jsonl'));
    writeFileSync(path.join(unread, 'sinkhole-fetch.json'), JSON.stringify({ source: cleanLog, error: `${cleanLog}: ENOENT: no such file or directory` }));
    const b = await reanalyzeRun(unread);
    expect(b.verdict).toBe('INCONCLUSIVE');
    expect(reasons(b)).toContain(`the gateway sinkhole's log could not be read (${cleanLog}: ENOENT: no such file or directory)`);
  });

  it('heartbeats without the DNS canaries sent to the sinkhole, or a gateway clock 3 s ahead: INCONCLUSIVE, never PASS', async () => {
    const lines = readFileSync(path.join(cleanDir, 'sinkhole.jsonl'), 'utf8').split('\n').filter(Boolean);
    const isCanary = (l: string) => /canary\.airlock\.invalid/.test(l);
    expect(lines.filter(isCanary).length).toBeGreaterThan(4);

    // Alive but not receiving (its redirect flushed, or another gateway's log): only heartbeats and other records.
    const deaf = path.join(tmp, 'deaf');
    cpSync(cleanDir, deaf, { recursive: true });
    writeFileSync(path.join(deaf, 'sinkhole.jsonl'), lines.filter((l) => !isCanary(l)).join('\n') + '\n');
    const d = await reanalyzeRun(deaf);
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(reasons(d)).toMatch(/the gateway sinkhole's log holds none of the \d+ DNS canaries sent to it in this window \(first missing: #\d+ from (drone|controller|phone) /);

    // The gateway's clock 3 s ahead, its sinkhole running long before the run (heartbeats from 30 s
    // earlier, no start line in the span): every line 3 s late, no gap in the heartbeats.
    const skew = path.join(tmp, 'skew');
    cpSync(cleanDir, skew, { recursive: true });
    const parsed = lines.map((l) => JSON.parse(l) as { t: number; time: string; event?: string; instance?: string; heartbeatMs?: number });
    const first = parsed.find((p) => p.event)!;
    const before = Array.from({ length: 60 }, (_, i) => ({ t: first.t - 30_000 + i * 500, event: 'heartbeat', instance: first.instance, heartbeatMs: first.heartbeatMs, forwarding: [] }));
    const shifted = [...before, ...parsed].map((p) => {
      const t = p.t + 3000;
      return JSON.stringify({ ...p, time: new Date(t).toISOString(), t, ...(p.event === 'start' ? { event: 'heartbeat' } : {}) });
    });
    writeFileSync(path.join(skew, 'sinkhole.jsonl'), shifted.join('\n') + '\n');
    const k = await reanalyzeRun(skew);
    expect(k.verdict).toBe('INCONCLUSIVE');
    expect(reasons(k)).toMatch(/the gateway's clock is off by 3\.\d s from this host's \(DNS canary #\d+ from (drone|controller|phone) sent at \S+, logged at \S+\): its log cannot be matched to the captures by time/);
    expect(reasons(k)).not.toMatch(/heartbeat|shows it running only from|log ends at/);
  });

  it('the gateway switched to forwarding mid-run (its heartbeats say so): the windows from then INCONCLUSIVE naming it, the phase before not', async () => {
    const lines = readFileSync(path.join(cleanDir, 'sinkhole.jsonl'), 'utf8').split('\n').filter(Boolean);
    const parsed = lines.map((l) => JSON.parse(l) as { t: number; time: string; event?: string; forwarding?: string[] });
    // The virtual sinkhole's namespace does not forward, and every liveness line says so.
    const live = parsed.filter((p) => p.event);
    expect(live.length).toBeGreaterThan(5);
    expect(live.every((p) => Array.isArray(p.forwarding) && p.forwarding.length === 0)).toBe(true);

    const result = readResult(cleanDir);
    const standby = result.phases.find((p) => p.name === 'standby')!;
    const from = Date.parse(standby.startedAt!) + 2000;
    const on = live.find((p) => p.t >= from)!;
    const before = live[live.indexOf(on) - 1]!;
    const fwd = path.join(tmp, 'forwarded');
    cpSync(cleanDir, fwd, { recursive: true });
    writeFileSync(path.join(fwd, 'sinkhole.jsonl'), parsed.map((p) => JSON.stringify(p.event && p.t >= on.t ? { ...p, forwarding: ['net.ipv4.ip_forward=1'] } : p)).join('\n') + '\n');
    const f = await reanalyzeRun(fwd);
    expect(f.verdict).toBe('INCONCLUSIVE');
    const phaseReasons = (name: string) => f.phases.find((p) => p.name === name)!.assertions.map((a) => (a as Reasoned).reason ?? '').join('\n');
    expect(phaseReasons('standby')).toContain(
      `the gateway forwarded from ${on.time} (net.ipv4.ip_forward=1; its line before, at ${before.time}, said it did not): a gateway that forwards lets the lab reach the outside, so its sinkhole cannot witness this window`,
    );
    expect(phaseReasons('boot')).not.toContain('forwarded');
    expect(f.phases.find((p) => p.name === 'boot')!.assertions.every((a) => a.verdict === 'PASS')).toBe(true);
  });

  it('the sinkhole paused mid-run (a gap in its heartbeats): INCONCLUSIVE naming the gap, never PASS', { timeout: 180_000 }, async () => {
    const gapLog = path.join(shared, 'gap.jsonl');
    let paused = false;
    const r = await run(['run', 'scenarios/standby-on-ground.yaml', '--rig', rigWithLog(gapLog), '--out', tmp, '--set', 'standby=10s'], () => {
      void (async () => {
        // Once the sinkhole has written for a while (the devices are booting), stop it for 5 s.
        for (let i = 0; i < 600 && !existsSync(gapLog); i++) await sleep(100);
        await sleep(6000);
        const pids = pidsOf(`sinkhole/main.*--log ${gapLog}`);
        expect(pids.length).toBeGreaterThan(0);
        for (const p of pids) process.kill(p, 'SIGSTOP');
        paused = true;
        await sleep(5000);
        for (const p of pids) process.kill(p, 'SIGCONT');
      })();
    });
    expect(paused).toBe(true);
    expect(r.code).toBe(3);
    const result = readResult(runDirOf(r));
    expect(result.verdict).toBe('INCONCLUSIVE');
    const all = [...result.phases, ...(result.coverage ?? [])].flatMap((p) => p.assertions.map((a) => (a as Reasoned).reason ?? '')).join('\n');
    expect(all).toMatch(/the sinkhole log has no heartbeat between \S+ and \S+ \((\d+\.\d) s; one every 0\.5 s was promised\): the gateway sinkhole cannot witness this window/);
  });
});
