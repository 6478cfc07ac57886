/**
 * The canary ledger over a long run (docs/performance.md, "Soak"): every canary sent is kept for
 * the analysis after the run, but not in memory. A fake injection point (a child speaking
 * canary-child.ts's stdout protocol) reports thousands of canaries; the sender holds none of them
 * in memory, counts them all, tells each to its listeners, and stop() gives every one back in
 * send order with the ledger file removed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CANARY_LEDGER_FILE, readCanaryLedger } from '../../src/verdict/canary-ledger.js';
import { fakeInjectorSender } from '../utils/fake-injector.js';

const N = 3000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-ledger-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Reads its settings line, reports N canaries (newest first, so the order is the sender's to fix) and one round, then waits for stdin to end. */
const fakeChild = `
const rl = require('node:readline').createInterface({ input: process.stdin });
let first = true;
rl.on('line', () => {
  if (!first) return;
  first = false;
  const out = [];
  for (let i = ${N}; i >= 1; i--) out.push(JSON.stringify({ seq: i, target: i % 2 ? 'lab' : 'outside', protocol: 'udp', src: '10.231.0.11', dst: i % 2 ? '10.231.0.1' : '203.0.113.99', srcPort: 40000, dstPort: 47474, sentAtMs: 1700000000000 + i * 10 }));
  out.push(JSON.stringify({ round: 1 }));
  process.stdout.write(out.join('\\n') + '\\n');
});
rl.on('close', () => process.exit(0));
`;

describe('CanarySender ledger', () => {
  it(`holds none of ${N} canaries sent in memory, and gives every one back at stop()`, async () => {
    const sender = fakeInjectorSender(fakeChild, { runId: 'ledger', secret: 's', ledgerDir: tmp });
    let told = 0;
    sender.onSent(() => told++);
    await sender.start();
    expect(sender.sentCount).toBe(N);
    expect(told).toBe(N);
    // The bound: no canary record in memory while the run goes on (all N were before the fix).
    expect(sender.retained().canaries).toBe(0);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('airlock-canaries-'))).toHaveLength(1);

    const sent = await sender.stop();
    expect(sent).toHaveLength(N);
    expect(sent.map((c) => c.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(sent[0]).toEqual({ seq: 1, target: 'lab', protocol: 'udp', src: '10.231.0.11', dst: '10.231.0.1', srcPort: 40000, dstPort: 47474, sentAtMs: 1700000000010, host: 'drone' });
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('airlock-canaries-'))).toEqual([]);
    expect(await sender.stop()).toHaveLength(N);
  }, 30_000);

  it('a run\'s ledger is its run directory\'s canaries.jsonl, kept after finish() and read back checked', async () => {
    const runDir = fs.mkdtempSync(path.join(tmp, 'run-'));
    const file = path.join(runDir, CANARY_LEDGER_FILE);
    const sender = fakeInjectorSender(fakeChild, { runId: 'ledger-file', secret: 'not-in-the-file', ledgerFile: file });
    await sender.start();
    // Written during the run: a killed run keeps what was sent.
    expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(N);
    expect(sender.retained().canaries).toBe(0);
    expect(await sender.finish()).toBe(N);
    expect(fs.readdirSync(runDir)).toEqual([CANARY_LEDGER_FILE]);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('not-in-the-file');
    const sent = readCanaryLedger(runDir, { file: CANARY_LEDGER_FILE, count: N }).toArray();
    expect(sent.map((c) => c.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  }, 30_000);
});
