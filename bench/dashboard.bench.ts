/**
 * The dashboard over hours of history (docs/performance.md): an eight-hour run's event stream
 * (a counters event every second, as `airlock run` sends it, with steps and findings) is published
 * into the dashboard's hub, and a page attaching at the end is served through the real HTTP server.
 * Reference, measured in the same run: the raw stream itself (what a page would have to load
 * without downsampling, and what `airlock dashboard` reads from events.jsonl).
 *
 *   AIRLOCK_BENCH=dashboard npm run bench      or   npx tsx bench/dashboard.bench.ts [--hours 8]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { DashboardHub, startDashboardServer } from '../src/dashboard/index.js';
import { eventLine } from '../src/orchestrator/index.js';

const { values } = parseArgs({ options: { hours: { type: 'string', default: '8' } } });
const hours = Number(values.hours);
const seconds = Math.round(hours * 3600);
const t0 = Date.UTC(2026, 0, 1);

function counters(i: number): object {
  return {
    type: 'counters',
    elapsedMs: i * 1000,
    captures: { drone: i * 12, controller: i * 20, phone: i * 5, uplink: i * 30, air: i * 160, power: i * 23, 'mavlink:drone': i * 4 },
    amps: { drone: 0.002 + (i % 97) / 1e4, controller: 0.002, phone: null },
    rates: { drone: 12, controller: 20, phone: 5, uplink: 30, air: 160 + (i % 13), power: 23, 'mavlink:drone': 4 },
    radio: { '2.4GHz': -94 + (i % 7) / 3, '5.8GHz': -95 + (i % 5) / 3 },
    mavlink: { mode: 'LAND', armed: false, altitudeM: 0 },
    canaries: { sent: Math.floor(i * 2.95), failed: 0 },
  };
}

const lines: string[] = [];
const at = (i: number) => new Date(t0 + i * 1000);
lines.push(eventLine({ type: 'start', runDir: '/tmp/x', runId: 'bench1', scenario: 'soak', rig: 'virtual', phases: ['boot', 'quiet'] }, at(0)));
lines.push(eventLine({ type: 'phase', index: 0, name: 'boot', total: 2 }, at(0)));
for (let i = 1; i <= seconds; i++) {
  if (i === 60) lines.push(eventLine({ type: 'phase', index: 1, name: 'quiet', total: 2 }, at(i)));
  if (i % 600 === 0) lines.push(eventLine({ type: 'step', phase: 'quiet', index: 0, total: 1, text: 'dwell', timeoutMs: 1000, remainingDwellMs: 1000 }, at(i)));
  if (i % 1800 === 0) {
    lines.push(eventLine({ type: 'finding', live: true, window: 'quiet', phase: 'quiet', assertion: 'no_egress', text: `no_egress: DNS query ${i}`, names: ['x.example'], capture: 'drone', file: 'net-drone.pcap', packet: i, at: at(i).toISOString() }, at(i)));
  }
  lines.push(eventLine(counters(i), at(i)));
}
const raw = lines.join('\n') + '\n';

let hub: DashboardHub = new DashboardHub();
let start = process.hrtime.bigint();
for (const l of lines) hub.publish(JSON.parse(l));
const applyMs = Number(process.hrtime.bigint() - start) / 1e6;

const server = await startDashboardServer({ hub });
function fetchState(): Promise<{ bytes: number; ms: number }> {
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: server.port, path: '/api/state', headers: { host: `127.0.0.1:${server.port}` } }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ bytes, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
      })
      .on('error', reject);
  });
}
const served: Array<{ bytes: number; ms: number }> = [];
for (let k = 0; k < 5; k++) served.push(await fetchState());
await server.close();

start = process.hrtime.bigint();
const parsedRaw = raw.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown).length;
const rawParseMs = Number(process.hrtime.bigint() - start) / 1e6;

const snap = hub.state.snapshot();
// The hub's retained heap: the heap after a full GC with the hub, less the heap once it is dropped.
let retained: number | undefined;
if (global.gc) {
  const holder: { hub?: DashboardHub } = { hub };
  global.gc();
  const withHub = process.memoryUsage().heapUsed;
  holder.hub = undefined;
  hub = undefined as unknown as DashboardHub;
  global.gc();
  retained = withHub - process.memoryUsage().heapUsed;
}
const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const best = served.reduce((a, b) => (b.ms < a.ms ? b : a));
process.stdout.write(
  `dashboard: ${hours} h of events (${lines.length} lines, ${parsedRaw} parsed)\n` +
    `  reference  the raw stream (events.jsonl): ${kb(raw.length)}; JSON.parse of every line ${rawParseMs.toFixed(0)} ms\n` +
    `  hub        applied in ${applyMs.toFixed(0)} ms (${((lines.length / applyMs) * 1000).toFixed(0)} events/s); heap ${retained !== undefined ? `${kb(retained)} retained` : `(run with --expose-gc for the retained heap)`}\n` +
    `  page load  /api/state ${kb(best.bytes)} in ${best.ms.toFixed(1)} ms (best of 5; ${(raw.length / best.bytes).toFixed(0)}x smaller than the raw stream)\n` +
    `  history    ${snap.history.t.length} buckets of ${snap.history.bucketMs / 1000} s x ${Object.keys(snap.history.series).length} series; ${snap.steps.length} steps, ${snap.findings.length} findings kept\n`,
);
