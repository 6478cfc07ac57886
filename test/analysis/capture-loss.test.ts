/**
 * TCP capture loss (src/analysis/capture-loss.ts), on a real transfer: socat sends 20 MB between
 * two namespaces while tcpdump captures both directions. The whole capture shows no loss; with
 * data segments deleted by editcap (frames chosen by a tshark filter written here) the estimate
 * counts a gap per deleted segment and their bytes (at most; see the test); a capture of one direction only
 * says it cannot estimate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCaptures, type FileSummary } from '../../src/analysis/index.js';
import { CAPTURE_LOSS_MIN_ACKS } from '../../src/analysis/capture-loss.js';
import { capture, createLab, tshark, type TestLab } from './lab-net.js';

let lab: TestLab;
let dir: string;
let file: string;


const lossOf = async (f: string): Promise<FileSummary['tcpLoss']> => (await scanCaptures([f], { lab: [`10.${lab.net}.0.0/24`] })).files[0]!.tcpLoss;

beforeAll(async () => {
  lab = createLab();
  dir = mkdtempSync(path.join(tmpdir(), 'tan-loss-'));
  file = path.join(dir, 'transfer.pcap');
  const server = lab.start(lab.gateway, ['socat', 'TCP-LISTEN:8080,reuseaddr', 'SYSTEM:head -c 20000000 /dev/zero']);
  await new Promise((r) => setTimeout(r, 300));
  await capture(lab.inner, lab.innerIf, file, ['tcp port 8080'], () => lab.run(lab.inner, ['socat', '-u', `TCP:10.${lab.net}.0.1:8080`, 'OPEN:/dev/null']));
  server.kill('SIGKILL');
}, 60_000);

afterAll(() => {
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TCP capture loss', () => {
  it('a whole capture of both directions: enough ACKs, no gap', async () => {
    const l = await lossOf(file);
    expect(l.bothWays).toBe(1);
    expect(l.acks).toBeGreaterThanOrEqual(CAPTURE_LOSS_MIN_ACKS);
    expect(l.gaps).toBe(0);
    expect(l.gapBytes).toBe(0);
  });

  it('segments deleted with editcap: one gap per deleted segment, exactly their bytes', async () => {
    const data = tshark(file, 'tcp.srcport == 8080 && tcp.len > 0', ['frame.number', 'tcp.len']);
    expect(data.length).toBeGreaterThan(60);
    // Every 20th data segment, never the last ones (their ACKs must be in the capture).
    const cut = data.filter((_, i) => i % 20 === 10 && i < data.length - 10);
    const cutFile = path.join(dir, 'cut.pcap');
    execFileSync('editcap', [file, cutFile, ...cut.map(([frame]) => frame!)]);
    const l = await lossOf(cutFile);
    // One hole per direction is tracked: two holes under one ACK (segment sizes vary with the
    // kernel's offloads) count once, so the estimate may fall short, never over.
    const bytes = cut.reduce((sum, [, len]) => sum + Number(len), 0);
    expect(l.gaps).toBeLessThanOrEqual(cut.length);
    expect(l.gaps).toBeGreaterThanOrEqual(Math.floor(cut.length * 0.9));
    expect(l.gapBytes).toBeLessThanOrEqual(bytes);
    expect(l.gapBytes).toBeGreaterThanOrEqual(Math.floor(bytes * 0.9));
    expect(l.acks).toBeGreaterThanOrEqual(CAPTURE_LOSS_MIN_ACKS);
  });

  it('one direction only: no flow has both directions, so nothing is estimated', async () => {
    const oneWay = path.join(dir, 'one-way.pcap');
    execFileSync('tshark', ['-r', file, '-Y', 'tcp.srcport == 8080', '-w', oneWay]);
    const l = await lossOf(oneWay);
    expect(l.flows).toBe(1);
    expect(l.bothWays).toBe(0);
    expect(l.acks).toBe(0);
  });
});
