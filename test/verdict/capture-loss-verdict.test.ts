/**
 * TCP capture loss as a verdict: a capture that missed acknowledged data above the limit proves
 * nothing by its silence. On a real transfer (socat, 20 MB between two namespaces, tcpdump on
 * both directions) with data segments deleted by editcap (frames chosen by a tshark filter
 * written here): `airlock analyze` says INCONCLUSIVE (exit 3) naming the loss, and PASS with a
 * limit above it; a run's window is INCONCLUSIVE above the rig's `capture_loss_max` (default
 * 0.1 %) and not below it (src/verdict/network-blindness.ts). The counting itself is
 * test/analysis/capture-loss.test.ts's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';
import type { RigConfig } from '../../src/config/types.js';
import type { JudgeInput } from '../../src/verdict/input.js';
import { networkBlindness } from '../../src/verdict/network-blindness.js';
import type { CaptureLossEntry } from '../../src/verdict/result.js';
import { WindowData } from '../../src/verdict/window-data.js';
import { capture, createLab, tshark, type TestLab } from '../analysis/lab-net.js';
import { runAirlock } from '../utils/airlock.js';

let lab: TestLab;
let dir: string;
let whole: string;
let cut: string;

beforeAll(async () => {
  lab = createLab();
  dir = mkdtempSync(path.join(tmpdir(), 'tan-lossv-'));
  whole = path.join(dir, 'whole.pcap');
  cut = path.join(dir, 'cut.pcap');
  const server = lab.start(lab.gateway, ['socat', 'TCP-LISTEN:8080,reuseaddr', 'SYSTEM:head -c 20000000 /dev/zero']);
  await new Promise((r) => setTimeout(r, 300));
  await capture(lab.inner, lab.innerIf, whole, ['tcp port 8080'], () => lab.run(lab.inner, ['socat', '-u', `TCP:10.${lab.net}.0.1:8080`, 'OPEN:/dev/null']));
  server.kill('SIGKILL');
  // Every 20th data segment from the server, never the last ones (their ACKs must be in the capture).
  const data = tshark(whole, 'tcp.srcport == 8080 && tcp.len > 0', ['frame.number']);
  expect(data.length).toBeGreaterThan(60);
  const frames = data.filter((_, i) => i % 20 === 10 && i < data.length - 10).map(([frame]) => frame!);
  execFileSync('editcap', [whole, cut, ...frames]);
}, 60_000);

afterAll(() => {
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const analyze = (...args: string[]) => runAirlock(['analyze', '--lab', `10.${lab.net}.0.0/24`, ...args]);

describe('TCP capture loss decides: above the limit, INCONCLUSIVE', () => {
  it('airlock analyze: the whole capture PASS with its figure, 0.00 %', async () => {
    const r = await analyze(whole);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS: /);
    expect(r.stdout).toContain(`TCP capture loss: ${whole}: 0.00 % (0 of `);
  });

  it('airlock analyze: the thinned capture INCONCLUSIVE (exit 3) naming the loss; --capture-loss-max above it: PASS', async () => {
    const json = await analyze('--json', cut);
    expect(json.code).toBe(3);
    const doc = JSON.parse(json.stdout) as { verdict: string; captureLoss: CaptureLossEntry[]; damage: Array<{ file: string; reason: string }> };
    expect(doc.verdict).toBe('INCONCLUSIVE');
    const [e] = doc.captureLoss;
    expect(doc.captureLoss).toHaveLength(1);
    expect(e!.acks).toBeGreaterThanOrEqual(100);
    expect(e!.gaps).toBeGreaterThanOrEqual(3);
    expect(e!.percent).toBeCloseTo((100 * e!.gaps) / e!.acks, 9);
    expect(e!.percent).toBeGreaterThan(0.1);
    const pct = e!.percent!.toFixed(2);
    expect(doc.damage).toEqual([
      {
        file: cut,
        offset: -1,
        reason: `missed an estimated ${pct} % of TCP data (${e!.gaps} of ${e!.acks} ACKs acknowledged data it never saw; limit 0.10 %): the capture dropped packets it does not report`,
      },
    ]);
    const text = await analyze(cut);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/^INCONCLUSIVE: /);
    expect(text.stdout).toContain(`TCP capture loss: ${cut}: ${pct} % (${e!.gaps} of ${e!.acks} ACKs`);
    const lenient = await analyze('--capture-loss-max', '50%', cut);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/^PASS: /);
    const bad = await analyze('--capture-loss-max', '0.5', cut);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a percentage like 0.1%: 0.5');
  });

  it("a run's window: INCONCLUSIVE above capture_loss_max (default 0.1 %), not with a limit above the loss", async () => {
    const reasons = async (file: string, captureLossMax: number) => {
      const scan = await scanCaptures([file], { lab: [`10.${lab.net}.0.0/24`] });
      const input = {
        runDir: dir,
        rig: { lab: { subnets: [] }, captureLossMax } as unknown as RigConfig,
        captures: [{ name: 'drone', kind: 'network', files: [file] }],
      } as unknown as JudgeInput;
      return networkBlindness(new WindowData(input, { fromMs: 0, toMs: Date.now() + 60_000 }, scan));
    };
    const loss = (await scanCaptures([cut], { lab: [`10.${lab.net}.0.0/24`] })).files[0]!.tcpLoss;
    const pct = ((100 * loss.gaps) / loss.acks).toFixed(2);
    const line = `capture drone (${cut}) missed an estimated ${pct} % of TCP data in this window (${loss.gaps} of ${loss.acks} ACKs acknowledged data it never saw; limit 0.10 %)`;
    expect(await reasons(cut, 0.001)).toContain(line);
    expect((await reasons(cut, 0.5)).filter((r) => r.includes('missed an estimated'))).toEqual([]);
    expect((await reasons(whole, 0.001)).filter((r) => r.includes('missed an estimated'))).toEqual([]);
  });
});
