/**
 * The suite runner with a stand-in orchestrator (the real one runs in suite-e2e.test.ts): order,
 * stop on a rig fault with the rest reported as not run (skipped in junit.xml with the reason),
 * exit codes, firmware hashes, the rig lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { suiteCommand } from '../../src/cli/commands/suite.js';
import { memoryIO } from '../../src/cli/io.js';
import { generateKeyPair, junitForSuite, RunDirectory, type RunResult } from '../../src/evidence/index.js';
import type { SuiteDeps, SuiteRecord } from '../../src/regression/index.js';

const require = createRequire(import.meta.url);
const suiteFile = path.resolve(__dirname, '../fixtures/regression/suites/good.yaml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-suite-'));
const lockDir = path.join(tmp, 'locks');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Outcome = { verdict: 'PASS' | 'FAIL' | 'INCONCLUSIVE'; exitCode: number; fault?: boolean };

/** A stand-in orchestrator: writes a run directory with a result.json, as runScenario does. */
function fakeDeps(outcomes: Record<string, Outcome>, calls: string[], rig = { name: 'trg-bench', virtual: true }): SuiteDeps {
  return {
    loadRig: () => rig,
    loadScenario: (file) => ({ name: path.basename(file, '.yaml') }),
    junitForSuite: (e) => junitForSuite(e),
    runScenario: async (o) => {
      const name = path.basename(o.scenario, '.yaml');
      calls.push(`${name} ${JSON.stringify(o.set)} ${JSON.stringify(o.firmware)}`);
      const oc = outcomes[name] ?? { verdict: 'PASS', exitCode: 0 };
      const dir = RunDirectory.create(o.out, name);
      const now = new Date().toISOString();
      const result: RunResult = {
        airlockVersion: 't',
        analyzerVersion: '1',
        runId: name,
        scenario: name,
        rig: rig.name,
        startedAt: now,
        endedAt: now,
        verdict: oc.verdict,
        exitCode: oc.exitCode,
        complete: !oc.fault,
        ...(oc.fault ? { fault: { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu-a: OUTP?: no answer within 1 s', device: 'psu-a', command: 'OUTP?' } } : {}),
        params: o.set ?? {},
        settings: {},
        firmware: Object.entries(o.firmware ?? {}).map(([device, value]) => ({ device, value })),
        phases: [
          {
            name: 'quiet',
            verdict: oc.verdict,
            incomplete: Boolean(oc.fault),
            assertions: [
              { kind: 'no_egress', verdict: oc.verdict === 'FAIL' ? 'FAIL' : 'PASS', findings: oc.verdict === 'FAIL' ? [{ kind: 'network', file: 'net-drone.pcap', packet: 3, lastPacket: 3, count: 1, time: now, summary: 'TLS 10.231.0.10 -> 203.0.113.10:443 leaves the lab', src: '10.231.0.10', dst: '203.0.113.10', dstPort: 443, protocol: 'tls', reason: 'egress' }] : [] },
              { kind: 'no_dns', verdict: oc.verdict === 'INCONCLUSIVE' ? 'INCONCLUSIVE' : 'PASS', findings: [], ...(oc.verdict === 'INCONCLUSIVE' ? { reason: 'capture damaged' } : {}) },
            ],
          },
        ],
        runAssertions: [],
        findings: oc.verdict === 'FAIL' ? [{ kind: 'network', file: 'net-drone.pcap', packet: 3, lastPacket: 3, count: 1, time: now, summary: 'x', src: '10.231.0.10', dst: '203.0.113.10', dstPort: 443, protocol: 'tls', reason: 'egress' }] : [],
        captures: [],
      };
      dir.writeJson('result.json', result);
      return { runDir: dir.path, result, exitCode: oc.exitCode };
    },
  };
}

function suiteOut(io: ReturnType<typeof memoryIO>): { dir: string; rec: SuiteRecord; junit: string } {
  const dir = io.stdout[io.stdout.length - 1]!.trim();
  return { dir, rec: JSON.parse(fs.readFileSync(path.join(dir, 'suite.json'), 'utf8')) as SuiteRecord, junit: fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8') };
}

describe('suite runner', () => {
  it('reads the signing key once (env) and hands it to every run, with the variable gone before the first', async () => {
    const { privateKeyPem } = generateKeyPair();
    const keys: Array<string | undefined> = [];
    const deps = fakeDeps({}, []);
    const inner = deps.runScenario;
    deps.runScenario = async (o) => {
      keys.push(o.signingKeyPem);
      expect(process.env.AIRLOCK_SIGNING_KEY).toBeUndefined();
      return inner(o);
    };
    process.env.AIRLOCK_SIGNING_KEY = privateKeyPem;
    try {
      await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'keyed'), lockDir, handleSignals: false }, memoryIO(), deps);
    } finally {
      delete process.env.AIRLOCK_SIGNING_KEY;
    }
    expect(keys).toEqual([privateKeyPem, privateKeyPem, privateKeyPem]);
  });

  it('runs every scenario in order with its set values; a FAIL does not stop the suite (exit 1)', async () => {
    const calls: string[] = [];
    const io = memoryIO();
    const code = await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'a'), firmware: { drone: 'leaky-dns' }, lockDir, handleSignals: false }, io, fakeDeps({ beta: { verdict: 'FAIL', exitCode: 1 } }, calls));
    expect(code).toBe(1);
    expect(calls).toEqual(['alpha {"quiet":"2s","count":"3"} {"drone":"leaky-dns"}', 'beta {} {"drone":"leaky-dns"}', 'gamma {"quiet":"1s"} {"drone":"leaky-dns"}']);
    const { dir, rec, junit } = suiteOut(io);
    expect(path.basename(dir)).toMatch(/^\d{8}T\d{6}Z-suite-nightly-test$/);
    expect(rec.runs.map((r) => `${r.scenario}:${r.status}:${r.verdict}`)).toEqual(['alpha:run:PASS', 'beta:run:FAIL', 'gamma:run:PASS']);
    for (const r of rec.runs) expect(fs.existsSync(path.join(dir, r.runDir!, 'result.json'))).toBe(true);
    expect(rec.runs[1]!.outsideDestinations).toEqual(['203.0.113.10']);
    // the firmware under test with its SHA-256 (virtual rig: of the profile name)
    const sha = createHash('sha256').update('leaky-dns').digest('hex');
    expect(rec.firmware).toEqual([{ device: 'drone', value: 'leaky-dns', sha256: sha }]);
    expect(rec.runs[0]!.firmware).toEqual([{ device: 'drone', value: 'leaky-dns', sha256: sha }]);
    // junit: every scenario and every assertion
    expect(junit.match(/<testsuite /g)).toHaveLength(3);
    expect(junit.match(/<testcase /g)).toHaveLength(6);
    expect(junit).toMatch(/<testcase name="quiet: no_egress" classname="beta"[^>]*>\s*<failure/);
    expect(fs.readFileSync(path.join(dir, 'summary.md'), 'utf8')).toContain('| 2 | beta | FAIL | 1 | no | 203.0.113.10 |');
  });

  it('a rig fault stops the suite: the rest are not run, skipped in junit.xml with the reason (exit 4)', async () => {
    const calls: string[] = [];
    const io = memoryIO();
    const code = await suiteCommand(
      { suite: suiteFile, out: path.join(tmp, 'b'), lockDir, handleSignals: false },
      io,
      fakeDeps({ alpha: { verdict: 'PASS', exitCode: 0 }, beta: { verdict: 'INCONCLUSIVE', exitCode: 4, fault: true } }, calls),
    );
    expect(code).toBe(4);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['alpha', 'beta']);
    const { rec, junit } = suiteOut(io);
    expect(rec.runs.map((r) => r.status)).toEqual(['run', 'run', 'not-run']);
    expect(rec.runs[2]!.reason).toBe('not run: rig fault in beta: psu-a: OUTP?: no answer within 1 s (the rig was made safe)');
    expect(junit).toMatch(/<testsuite name="gamma"[^>]*skipped="1"/);
    expect(junit).toContain('not run: rig fault in beta: psu-a: OUTP?: no answer within 1 s');
    expect(junit).toMatch(/<skipped/);
  });


  it('a leak before a rig fault: exit 1 (evidence of a leak comes first), the suite still stops', async () => {
    const calls: string[] = [];
    const io = memoryIO();
    const code = await suiteCommand(
      { suite: suiteFile, out: path.join(tmp, 'b2'), lockDir, handleSignals: false },
      io,
      fakeDeps({ alpha: { verdict: 'FAIL', exitCode: 1 }, beta: { verdict: 'INCONCLUSIVE', exitCode: 4, fault: true } }, calls),
    );
    expect(code).toBe(1);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['alpha', 'beta']);
    expect(suiteOut(io).rec.runs.map((r) => r.status)).toEqual(['run', 'run', 'not-run']);
  });
  it('exit 3 when the worst is INCONCLUSIVE, 0 when all pass', async () => {
    const io3 = memoryIO();
    expect(await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'c'), lockDir, handleSignals: false }, io3, fakeDeps({ gamma: { verdict: 'INCONCLUSIVE', exitCode: 3 } }, []))).toBe(3);
    const io0 = memoryIO();
    expect(await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'c'), lockDir, handleSignals: false }, io0, fakeDeps({}, []))).toBe(0);
  });

  it('an abort (Ctrl-C) during a scenario: that run is kept, the rest are not run (exit 3)', async () => {
    const ac = new AbortController();
    const calls: string[] = [];
    const deps = fakeDeps({ alpha: { verdict: 'INCONCLUSIVE', exitCode: 3 } }, calls);
    const inner = deps.runScenario;
    deps.runScenario = async (o) => {
      const r = await inner(o);
      ac.abort(); // the operator pressed Ctrl-C while alpha ran
      return { ...r, result: { ...r.result, abort: { reason: 'SIGINT' } } };
    };
    const io = memoryIO();
    expect(await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'f'), lockDir, handleSignals: false, signal: ac.signal }, io, deps)).toBe(3);
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['alpha']);
    const { rec, junit } = suiteOut(io);
    expect(rec.runs.map((r) => `${r.scenario}:${r.status}`)).toEqual(['alpha:run', 'beta:not-run', 'gamma:not-run']);
    expect(rec.runs[1]!.reason).toBe('not run: the suite was aborted');
    expect(junit.match(/<skipped/g)).toHaveLength(2);
  });

  it('a real rig hashes the firmware image file; a missing image is an input error before anything runs', async () => {
    const image = path.join(tmp, 'drone-1.2.3.bin');
    fs.writeFileSync(image, Buffer.from([1, 2, 3, 4, 5]));
    const calls: string[] = [];
    const io = memoryIO();
    await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'd'), firmware: { drone: image }, lockDir, handleSignals: false }, io, fakeDeps({}, calls, { name: 'bench-7', virtual: false }));
    const { rec } = suiteOut(io);
    expect(rec.firmware[0]!.sha256).toBe(createHash('sha256').update(Buffer.from([1, 2, 3, 4, 5])).digest('hex'));
    const calls2: string[] = [];
    await expect(
      suiteCommand({ suite: suiteFile, out: path.join(tmp, 'd'), firmware: { drone: path.join(tmp, 'nope.bin') }, lockDir, handleSignals: false }, memoryIO(), fakeDeps({}, calls2, { name: 'bench-7', virtual: false })),
    ).rejects.toMatchObject({ category: 'input' });
    expect(calls2).toEqual([]);
  });

  it('a rig held by another job: waits up to --wait, then a rig error naming the holder; nothing runs', async () => {
    const holder = spawn(process.execPath, ['--import', require.resolve('tsx'), path.resolve(__dirname, '../fixtures/regression/lock-holder.ts'), 'trg-bench', lockDir, '20000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    const calls: string[] = [];
    const io = memoryIO();
    const t0 = Date.now();
    const err = await suiteCommand({ suite: suiteFile, out: path.join(tmp, 'e'), wait: 500, lockDir, handleSignals: false }, io, fakeDeps({}, calls)).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(err).toMatchObject({ category: 'rig', code: 'AIRLOCK_RIG_BUSY' });
    expect((err as Error).message).toContain(`held by pid ${holder.pid} on ${os.hostname()} since `);
    expect(io.stderr.join('\n')).toContain('rig trg-bench is busy');
    expect(calls).toEqual([]);
    expect(fs.existsSync(path.join(tmp, 'e'))).toBe(false);
    holder.kill('SIGKILL');
  });
});
