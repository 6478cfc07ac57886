/**
 * compare on run and suite directories built from real captures: tcpdump on a namespace link
 * while dig and nc make the traffic. Suite B's system-off run adds, in its quiet phase
 * only, a DNS query for phone-home.example and a TCP connection to 203.0.113.7:443.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDirs, comparisonMarkdown } from '../../src/regression/compare.js';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { memoryIO } from '../../src/cli/io.js';
import type { NetnsPair } from '../utils/netns-pair.js';
import { createTrgLab, captureDut, sleep, DUT, SINK, OUTSIDE, LAB_NET } from './trg-lab.js';

const RIG_YAML = `rig: trg-bench\nvirtual: true\nlab:\n  subnets: [${LAB_NET}]\n  names: [update.lab]\nlinks:\n  drone: { endpoint: "serial:sim:x:57600", system_id: 1 }\n`;

let lab: NetnsPair;
let root: string;
let listener: ChildProcess;
let suiteA: string;
let suiteB: string;

/** Records one run: a boot phase (an mDNS-style .local query to the lab gateway) and a quiet phase (a lab TCP connection, plus the leak when leaky). */
async function makeRun(parent: string, scenario: string, leaky: boolean): Promise<string> {
  const dir = path.join(parent, `20261124T0000${String(fs.readdirSync(parent).length).padStart(2, '0')}Z-${scenario}`);
  fs.mkdirSync(dir);
  const stop = await captureDut(lab, path.join(dir, 'net-drone.pcap'));
  const t0 = Date.now();
  lab.run(lab.inner, ['dig', `@${SINK}`, '+tries=1', '+time=1', 'drone.local', 'A']);
  await sleep(150);
  const t1 = Date.now();
  await sleep(50);
  lab.run(lab.inner, ['nc', '-z', '-w', '2', SINK, '443']);
  if (leaky) {
    lab.run(lab.inner, ['dig', `@${SINK}`, '+tries=1', '+time=1', 'phone-home.example', 'A']);
    lab.run(lab.inner, ['nc', '-z', '-w', '2', OUTSIDE, '443']);
  }
  await sleep(150);
  const t2 = Date.now();
  await sleep(50);
  await stop();
  const phase = (name: string, startMs: number, endMs: number) => ({ name, verdict: 'PASS', startMs, endMs, incomplete: false, assertions: [] });
  const result = {
    airlockVersion: '0.0.0-test',
    analyzerVersion: '1',
    runId: scenario,
    scenario,
    rig: 'trg-bench',
    startedAt: new Date(t0).toISOString(),
    endedAt: new Date(t2).toISOString(),
    verdict: leaky ? 'FAIL' : 'PASS',
    exitCode: leaky ? 1 : 0,
    complete: true,
    params: {},
    settings: {},
    firmware: [{ device: 'drone', value: leaky ? 'leaky-dns' : 'clean' }],
    phases: [phase('boot', t0, t1), phase('quiet', t1, t2)],
    runAssertions: [],
    findings: [],
    captures: [],
    // The link's record as a run writes it: the leaky build also runs a newer autopilot.
    links: { drone: { identity: { autopilot: 'ARDUPILOTMEGA', vehicleType: 'QUADROTOR', flightSwVersion: leaky ? '4.5.8' : '4.5.7', releaseType: 'official', gitHash: leaky ? '9c1e0f3a' : '2a3dc4b7', boardVersion: 0, source: 'AUTOPILOT_VERSION' } } },
  };
  fs.writeFileSync(path.join(dir, 'result.json'), JSON.stringify(result, null, 2));
  fs.writeFileSync(path.join(dir, 'rig.yaml'), RIG_YAML);
  return dir;
}

async function makeSuite(name: string, leaky: boolean): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const r1 = await makeRun(dir, 'system-off', leaky);
  const r2 = await makeRun(dir, 'standby-on-ground', false);
  fs.writeFileSync(
    path.join(dir, 'suite.json'),
    JSON.stringify({ suite: 'nightly', runs: [r1, r2].map((r) => ({ scenario: path.basename(r).replace(/^\w+-/, ''), status: 'run', runDir: path.basename(r) })) }),
  );
  return dir;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-compare-'));
  lab = createTrgLab();
  listener = lab.start(lab.gateway, ['nc', '-lk', '0.0.0.0', '443']);
  await sleep(200);
  suiteA = await makeSuite('suite-a', false);
  suiteB = await makeSuite('suite-b', true);
}, 60_000);

afterAll(() => {
  listener?.kill('SIGKILL');
  lab?.destroy();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('compare (real captures)', () => {
  it('reports exactly the new outside destination and DNS name, in the right scenario and phase', async () => {
    const c = await compareDirs(suiteA, suiteB);
    expect(c.exitCode).toBe(1);
    const changed = c.scenarios.flatMap((s) => s.phases.filter((p) => p.added.length).map((p) => `${s.scenario}/${p.phase}`));
    expect(changed).toEqual(['system-off/quiet']);
    const quiet = c.scenarios.find((s) => s.scenario === 'system-off')!.phases.find((p) => p.phase === 'quiet')!;
    const keys = (kind: string) => quiet.added.filter((a) => a.kind === kind).map((a) => a.key);
    expect(keys('outsideDestinations')).toEqual([OUTSIDE]);
    expect(keys('dnsNames')).toEqual(['phone-home.example']);
    // evidence points into the raw capture
    const dest = quiet.added.find((a) => a.kind === 'outsideDestinations')!;
    expect(dest.file).toBe('net-drone.pcap');
    expect(dest.packet).toBeGreaterThan(0);
    // the two new findings: the name that would leave through a resolver, and the TCP connection out
    const findings = quiet.added.filter((a) => a.kind === 'findings');
    expect(findings).toHaveLength(2);
    expect(findings.some((f) => f.key.includes('phone-home.example'))).toBe(true);
    expect(findings.some((f) => f.key.includes(`tcp/443 ${OUTSIDE}`))).toBe(true);
    expect(c.totals.newOutsideDestinations).toBe(1);
    expect(quiet.removed).toEqual([]);
    // nothing changed in the other scenario, nor in the boot phase
    expect(c.scenarios.find((s) => s.scenario === 'standby-on-ground')!.phases.flatMap((p) => [...p.added, ...p.removed])).toEqual([]);
    // The autopilot build changed between A and B: said, per scenario and link.
    expect(c.autopilotChanges).toEqual([
      { scenario: 'system-off', link: 'drone', a: 'ARDUPILOTMEGA QUADROTOR 4.5.7 official, git 2a3dc4b7, board 0', b: 'ARDUPILOTMEGA QUADROTOR 4.5.8 official, git 9c1e0f3a, board 0' },
    ]);
    const md = comparisonMarkdown(c);
    expect(md).toContain('the autopilot on link drone changed: ARDUPILOTMEGA QUADROTOR 4.5.7 official, git 2a3dc4b7, board 0 -> ARDUPILOTMEGA QUADROTOR 4.5.8 official, git 9c1e0f3a, board 0');
    expect(md).toContain('## system-off: PASS -> FAIL');
    expect(md).toContain('### phase quiet');
    expect(md).toMatch(new RegExp(`outside destination\\*\\*: ${OUTSIDE.replace(/\./g, '\\.')}`));
  });

  it('the other way round, the leak is reported as gone and the comparison passes', async () => {
    const c = await compareDirs(suiteB, suiteA);
    expect(c.exitCode).toBe(0);
    const quiet = c.scenarios.find((s) => s.scenario === 'system-off')!.phases.find((p) => p.phase === 'quiet')!;
    expect(quiet.added).toEqual([]);
    expect(quiet.removed.filter((r) => r.kind === 'outsideDestinations').map((r) => r.key)).toEqual([OUTSIDE]);
    expect(quiet.removed.filter((r) => r.kind === 'dnsNames').map((r) => r.key)).toEqual(['phone-home.example']);
  });

  it('compares single run directories, and the CLI command prints JSON with exit 1 and Markdown by default', async () => {
    const runA = path.join(suiteA, fs.readdirSync(suiteA).find((d) => d.endsWith('system-off'))!);
    const runB = path.join(suiteB, fs.readdirSync(suiteB).find((d) => d.endsWith('system-off'))!);
    const io = memoryIO();
    expect(await compareCommand({ a: runA, b: runB, json: true }, io)).toBe(1);
    const doc = JSON.parse(io.stdout.join('')) as { scenarios: { scenario: string; phases: { phase: string; added: { kind: string; key: string }[] }[] }[] };
    const added = doc.scenarios[0]!.phases.find((p) => p.phase === 'quiet')!.added;
    expect(added.filter((a) => a.kind === 'outsideDestinations').map((a) => a.key)).toEqual([OUTSIDE]);
    const io2 = memoryIO();
    expect(await compareCommand({ a: runA, b: runA, json: false }, io2)).toBe(0);
    expect(io2.stdout.join('')).toContain('No difference in behaviour.');
    // a directory that is neither: exit 2
    const io3 = memoryIO();
    expect(await compareCommand({ a: root, b: runB, json: false }, io3)).toBe(2);
    expect(io3.stderr.join('')).toContain('neither a run directory');
    expect(DUT).toBe('10.231.0.10');
  });
});
