/**
 * The sinkhole's record limit (the virtual rig's sinkhole stops recording after 20,000 records):
 * Airlock's canaries have a budget of their own, so a long run's canaries do not use up the
 * device's (they did, in about 28 minutes of rig/virtual.yaml, after which the sinkhole witnessed
 * nothing while the verdict still read PASS); and once the limit is reached, every window from
 * there on is INCONCLUSIVE, naming it, instead of judged as if the sinkhole still witnessed.
 */
import dgram from 'node:dgram';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';
import { CANARY_DNS_SUFFIX } from '../../src/analysis/canary.js';
import type { RigConfig } from '../../src/config/types.js';
import { SinkholeServer } from '../../src/devices/sinkhole/index.js';
import type { JudgeInput } from '../../src/verdict/input.js';
import { networkBlindness } from '../../src/verdict/network-blindness.js';
import { WindowData } from '../../src/verdict/window-data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airlock-sinkhole-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A DNS query (RFC 1035 4.1) for `name`, type A. */
function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // recursion desired
  header.writeUInt16BE(1, 4); // one question
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

async function send(port: number, payloads: Buffer[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) => sock.send(p, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await new Promise((r) => setTimeout(r, 20));
  }
  sock.close();
}

describe('the sinkhole record limit', () => {
  it('canaries do not use up the limit; past it a truncated line, and the windows from there INCONCLUSIVE', async () => {
    const base = 20000 + (process.pid % 20000);
    const logFile = path.join(dir, 'sinkhole.jsonl');
    const server = await SinkholeServer.start({ logFile, address: '127.0.0.1', tcpPort: base, udpPort: base + 1, dnsPort: base + 2, maxRecords: 3, syncMs: 10 });
    try {
      await send(base + 2, Array.from({ length: 8 }, (_, i) => query(i + 1, `c${i}.${i}.1.outside.bench.run1.${CANARY_DNS_SUFFIX}`)));
      await send(base + 1, Array.from({ length: 5 }, (_, i) => Buffer.from(`device datagram ${i}`)));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await server.stop('test over');
    }
    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { proto?: string; name?: string; truncated?: boolean; t: number });
    const records = lines.filter((l) => l.proto !== undefined);
    // Every canary DNS question, three device datagrams (the limit), then the truncated line.
    expect(records.filter((r) => r.proto === 'dns' && r.name?.endsWith(CANARY_DNS_SUFFIX))).toHaveLength(8);
    expect(records.filter((r) => r.proto === 'udp' && !r.truncated)).toHaveLength(3);
    const cut = records.filter((r) => r.truncated);
    expect(cut).toHaveLength(1);
    expect(records[records.length - 1]!.truncated).toBe(true);

    // The verdict: a window that ends before the cut is not concerned; one that ends after it is INCONCLUSIVE.
    const runDir = mkdtempSync(path.join(dir, 'run-'));
    copyFileSync(logFile, path.join(runDir, 'sinkhole.jsonl'));
    const input = { runDir, rig: { lab: { subnets: [] } } as unknown as RigConfig, captures: [] } as unknown as JudgeInput;
    const scan = await scanCaptures([], { lab: ['127.0.0.0/8'] });
    const reasonsFor = (fromMs: number, toMs: number) => networkBlindness(new WindowData(input, { fromMs, toMs }, scan));
    const t = cut[0]!.t;
    const line = `the sinkhole stopped recording at ${new Date(t).toISOString()} (its limit of records was reached): it cannot witness this window`;
    expect(await reasonsFor(t - 60_000, t)).not.toContain(line);
    expect(await reasonsFor(t - 60_000, t + 1)).toContain(line);
    expect(await reasonsFor(t + 10_000, t + 60_000)).toContain(line);
  });
});
