/**
 * Reading a gateway sinkhole's log after a run (src/rig/sinkhole-fetch.ts): the whole 64 MiB tail
 * a fetch reads, every line length-bounded and schema-checked, against jq parsing the same bytes
 * (the reference), measured in the same run. Prints the medians of 3 interleaved runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_BYTES, fetchSinkholeLog } from '../src/rig/sinkhole-fetch.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-sinkhole-'));
const file = path.join(dir, 'gateway.jsonl');
const runDir = mkdtempSync(path.join(dir, 'run-'));
const T0 = Date.now() - 3_600_000;
const lines: string[] = [];
// 300,000 lines (a DNS question every 10 ms, a heartbeat every 5 s): more than the 64 MiB read.
for (let i = 0; i < 300_000; i++) {
  const t = T0 + i * 10;
  const time = new Date(t).toISOString();
  lines.push(
    i % 500 === 0
      ? JSON.stringify({ time, t, event: 'heartbeat', instance: 'abcdef0123456789', heartbeatMs: 5000 })
      : JSON.stringify({ time, t, proto: 'dns', transport: 'udp', src: '10.20.0.10', srcPort: 40000 + (i % 20000), dst: '203.0.113.53', dstPort: 53, name: `n${i}.example.com`, qtype: 'A', bytes: 'ab'.repeat(40) }),
  );
}
writeFileSync(file, lines.join('\n') + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ours: number[] = [];
const jq: number[] = [];
let records = 0;
for (let k = 0; k < 3; k++) {
  let t = performance.now();
  const r = await fetchSinkholeLog({ path: file }, { fromMs: T0 + 1_000_000, toMs: T0 + 2_000_000 }, runDir, { maxWaitMs: 0 });
  ours.push(performance.now() - t);
  records = r.records ?? 0;
  t = performance.now();
  execFileSync('sh', ['-c', `tail -c ${DEFAULT_MAX_BYTES} '${file}' | tail -n +2 | jq -c 'select(.t != null)' > /dev/null`]);
  jq.push(performance.now() - t);
}
process.stdout.write(
  `log ${statSync(file).size} bytes, ${DEFAULT_MAX_BYTES} read; fetch kept ${records} records of the span\n` +
    `fetch (bounded, schema-checked): ${median(ours).toFixed(0)} ms; jq -c over the same tail: ${median(jq).toFixed(0)} ms; ratio ${(median(ours) / median(jq)).toFixed(2)}\n`,
);
rmSync(dir, { recursive: true, force: true });
