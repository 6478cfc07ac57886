/**
 * The gateway sinkhole's log as hostile input (src/analysis/sinkhole-log.ts), its liveness gaps, the
 * fetch into a run directory (src/rig/sinkhole-fetch.ts: shared-directory form for real, the SSH
 * form's command line), and the rig option lab.sinkhole_log.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardingProblem, parseSinkholeLog, sinkholeGap, type SinkholeLiveness } from '../../src/analysis/sinkhole-log.js';
import { fetchSinkholeLog, shellQuote, sshFetchArgv } from '../../src/rig/sinkhole-fetch.js';
import { loadRig } from '../../src/config/index.js';
import { configErrorOf } from '../config/helpers.js';
import { sinkholeRecordsOf } from '../../src/verdict/sinkhole-witness.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'airlock-sinkhole-log-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const live = (at: number, event: SinkholeLiveness['event'] = 'heartbeat', instance = 'aaaaaaaaaaaaaaaa', reason?: string): SinkholeLiveness => ({
  time: new Date(T0 + at).toISOString(),
  t: T0 + at,
  event,
  instance,
  heartbeatMs: 1000,
  ...(reason ? { reason } : {}),
});
const rec = (at: number, dst = '203.0.113.50', dstPort = 443) => ({ time: new Date(T0 + at).toISOString(), t: T0 + at, proto: 'tcp', src: '10.20.0.10', srcPort: 40000, dst, dstPort });

describe('the sinkhole log as hostile input', () => {
  it('keeps records and liveness lines; refuses over-long lines, non-JSON, unknown keys and wrong types, naming the line', () => {
    const text = [
      JSON.stringify(live(0, 'start')),
      JSON.stringify(rec(100)),
      'x'.repeat(9000),
      '{"time":"t","t":1,"proto":"tcp"',
      JSON.stringify({ ...rec(200), exec: 'rm -rf /' }),
      JSON.stringify({ ...rec(300), dstPort: 70000 }),
      JSON.stringify({ ...live(400), instance: 'not hex!' }),
      JSON.stringify(live(1000)),
    ].join('\n');
    const log = parseSinkholeLog(text);
    expect(log.records).toHaveLength(1);
    expect(log.liveness.map((l) => l.event)).toEqual(['start', 'heartbeat']);
    expect(log.rejectedCount).toBe(5);
    expect(log.rejected).toEqual([
      { line: 3, why: 'longer than 8192 characters' },
      { line: 4, why: 'not JSON' },
      { line: 5, why: 'not a sinkhole record' },
      { line: 6, why: 'not a sinkhole record' },
      { line: 7, why: 'not a sinkhole record' },
    ]);
  });
});

describe('records of remapped ports and unknown destinations', () => {
  const rec = (r: object) => JSON.stringify({ time: new Date(T0).toISOString(), t: T0, ...r });
  const text = [
    // Lines as the virtual rig's sinkhole writes them (src/devices/sinkhole/server.ts).
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 42630, seenSrcPort: 62903, dst: '203.0.113.99', dstPort: 47474, bytes: '41' }),
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 42630, dst: '10.231.0.1', dstPort: 9 }),
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 62903, dst: '::', dstPort: 10002, dstUnknown: true }),
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 62904, dst: '::', dstPort: 47474 }),
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 1, seenSrcPort: 70000, dst: '10.231.0.1', dstPort: 9 }),
    rec({ proto: 'udp', src: '10.231.0.12', srcPort: 1, dst: '10.231.0.1', dstPort: 9, dstUnknown: 'yes' }),
  ].join('\n');
  const log = parseSinkholeLog(text + '\n');

  it('reads seenSrcPort and dstUnknown; refuses them out of range or of the wrong type', () => {
    expect(log.records.map((r) => [r.seenSrcPort, r.dstUnknown])).toEqual([[62903, undefined], [undefined, undefined], [undefined, true], [undefined, undefined]]);
    expect(log.rejected.map((r) => r.line)).toEqual([5, 6]);
  });

  it('the witness leaves out canaries by their original port, never a record of unknown destination', () => {
    expect(sinkholeRecordsOf(log).map((r) => [r.dst, r.dstPort, r.dstUnknown])).toEqual([
      ['10.231.0.1', 9, undefined],
      ['::', 10002, true],
      // An older sinkhole's `::` is unknown too, whatever port it names.
      ['::', 47474, true],
    ]);
  });
});

describe('gaps: when the liveness lines do not show the sinkhole running', () => {
  const steady = [live(0, 'start'), ...Array.from({ length: 10 }, (_, i) => live(1000 * (i + 1)))];

  it('none in a window its heartbeats cover', () => {
    expect(sinkholeGap(steady, T0 + 500, T0 + 9500)).toBeUndefined();
  });

  it('a missing heartbeat longer than the tolerance (2 x interval + 2 s) is a gap; a shorter delay is not', () => {
    const lines = [live(0, 'start'), live(1000), live(5500), live(6000)];
    expect(sinkholeGap(lines, T0, T0 + 6000)).toBe(
      'the sinkhole log has no heartbeat between 2026-12-03T10:00:01.000Z and 2026-12-03T10:00:05.500Z (4.5 s; one every 1 s was promised)',
    );
    // The same stretch outside the window does not matter.
    expect(sinkholeGap(lines, T0 + 5500, T0 + 6000)).toBeUndefined();
    expect(sinkholeGap([live(0, 'start'), live(1000), live(4900), live(6000)], T0, T0 + 6000)).toBeUndefined();
  });

  it('a restart without a stop line, a stop then a start, a log that starts late or ends early', () => {
    expect(sinkholeGap([live(0, 'start'), live(1000), live(1500, 'start', 'bbbbbbbbbbbbbbbb'), live(3000, 'heartbeat', 'bbbbbbbbbbbbbbbb')], T0, T0 + 3000)).toMatch(
      /^the sinkhole restarted between .* without a stop line/,
    );
    expect(sinkholeGap([live(0, 'start'), live(500, 'stop', undefined, 'SIGTERM'), live(800, 'start', 'bbbbbbbbbbbbbbbb'), live(3000, 'heartbeat', 'bbbbbbbbbbbbbbbb')], T0, T0 + 3000)).toBe(
      'the sinkhole stopped at 2026-12-03T10:00:00.500Z (SIGTERM) and ran again only from 2026-12-03T10:00:00.800Z',
    );
    expect(sinkholeGap(steady, T0 - 1, T0 + 3000)).toMatch(/^the sinkhole log shows it running only from 2026-12-03T10:00:00.000Z/);
    expect(sinkholeGap(steady, T0, T0 + 10_001)).toBe('the sinkhole log ends at 2026-12-03T10:00:10.000Z, before 2026-12-03T10:00:10.001Z');
    expect(sinkholeGap([], T0, T0 + 1)).toMatch(/no start or heartbeat line at all/);
  });
});

describe('forwarding: the liveness lines say whether the gateway forwarded', () => {
  const at = (ms: number, forwarding: string[] | undefined, event: SinkholeLiveness['event'] = 'heartbeat'): SinkholeLiveness => ({ ...live(ms, event), ...(forwarding ? { forwarding } : {}) });
  const ON = ['net.ipv4.ip_forward=1'];
  const lines = [at(0, [], 'start'), at(1000, []), at(2000, ON), at(3000, []), at(4000, [])];

  it('a gateway that never forwarded: no problem', () => {
    expect(forwardingProblem([at(0, [], 'start'), at(1000, []), at(2000, [])], T0, T0 + 2000)).toBeUndefined();
  });

  it('from the first forwarding line, and since the line before it, every window is INCONCLUSIVE naming it; windows before are not', () => {
    const why = 'the gateway forwarded from 2026-12-03T10:00:02.000Z (net.ipv4.ip_forward=1; its line before, at 2026-12-03T10:00:01.000Z, said it did not): a gateway that forwards lets the lab reach the outside, so its sinkhole cannot witness this window';
    expect(forwardingProblem(lines, T0, T0 + 900)).toBeUndefined();
    expect(forwardingProblem(lines, T0, T0 + 1000)).toBeUndefined();
    // Switched on some time after the line at 1 s: the stretch before the line that says so too.
    expect(forwardingProblem(lines, T0 + 1200, T0 + 1800)).toBe(why);
    expect(forwardingProblem(lines, T0 + 2000, T0 + 2500)).toBe(why);
    // Switched off again: what it forwarded meanwhile is in no log, so later windows stay INCONCLUSIVE.
    expect(forwardingProblem(lines, T0 + 3500, T0 + 4000)).toBe(why);
    // Forwarding already at the first line (the span's start): named without a line before.
    expect(forwardingProblem([at(0, ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'], 'start'), at(1000, [])], T0 + 500, T0 + 900)).toBe(
      'the gateway forwarded from 2026-12-03T10:00:00.000Z (net.ipv4.ip_forward=1, net.ipv6.conf.all.forwarding=1): a gateway that forwards lets the lab reach the outside, so its sinkhole cannot witness this window',
    );
  });

  it('a line that does not say (an older sinkhole) cannot show the gateway did not forward', () => {
    expect(forwardingProblem([at(0, [], 'start'), at(1000, undefined), at(2000, [])], T0 + 1500, T0 + 2000)).toBe(
      "the gateway sinkhole's liveness line at 2026-12-03T10:00:01.000Z does not say whether the gateway forwarded (a sinkhole older than this Airlock; update it): nothing shows the gateway did not let the lab out",
    );
  });

  it('the field is checked like the rest of a hostile line', () => {
    const log = parseSinkholeLog([at(0, ON), at(1000, ['$(reboot)']), { ...at(2000, []), forwarding: 'net.ipv4.ip_forward=1' }].map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect(log.liveness.map((l) => l.forwarding)).toEqual([ON]);
    expect(log.rejected.map((r) => r.line)).toEqual([2, 3]);
  });
});

describe('fetching the log into the run directory', () => {
  it('shared directory: keeps the run span (with the liveness lines around it), drops other runs, counts hostile lines in the span', async () => {
    const logFile = path.join(tmp, 'shared.jsonl');
    const lines = [live(-5000, 'start'), rec(-4000, '203.0.113.1'), live(-1000), rec(500), 'garbage', live(1000), rec(1500), live(2000), rec(2500, '203.0.113.9'), live(3000)];
    writeFileSync(logFile, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const r = await fetchSinkholeLog({ path: logFile }, { fromMs: T0, toMs: T0 + 1800 }, runDir, { maxWaitMs: 0 });
    expect(r).toMatchObject({ source: logFile, records: 2, liveness: 3, rejected: 1, firstRejected: { line: 5, why: 'not JSON' } });
    const kept = parseSinkholeLog(readFileSync(path.join(runDir, 'sinkhole.jsonl'), 'utf8'));
    expect(kept.records.map((x) => x.t - T0)).toEqual([500, 1500]);
    expect(kept.liveness.map((x) => x.t - T0)).toEqual([-1000, 1000, 2000]);
    expect(JSON.parse(readFileSync(path.join(runDir, 'sinkhole-fetch.json'), 'utf8'))).toMatchObject({ rejected: 1, fromMs: T0, toMs: T0 + 1800 });
  });

  it('waits for the heartbeat due after the run ends, and takes it when it comes', async () => {
    const logFile = path.join(tmp, 'late.jsonl');
    const now = Date.now();
    const at = (t: number, event: SinkholeLiveness['event'] = 'heartbeat') => JSON.stringify({ ...live(0, event), t, time: new Date(t).toISOString() });
    writeFileSync(logFile, at(now - 2000, 'start') + '\n' + at(now - 1000) + '\n');
    setTimeout(() => appendFileSync(logFile, at(now + 600) + '\n'), 700);
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const r = await fetchSinkholeLog({ path: logFile }, { fromMs: now - 1500, toMs: now + 500 }, runDir, { maxWaitMs: 10_000 });
    expect(r.liveness).toBe(3);
    const kept = parseSinkholeLog(readFileSync(path.join(runDir, 'sinkhole.jsonl'), 'utf8'));
    expect(sinkholeGap(kept.liveness, now - 1500, now + 500)).toBeUndefined();
  });

  it('a log that cannot be read: no sinkhole.jsonl, the error in sinkhole-fetch.json', async () => {
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const r = await fetchSinkholeLog({ path: path.join(tmp, 'no-such.jsonl') }, { fromMs: T0, toMs: T0 + 1 }, runDir, { maxWaitMs: 0 });
    expect(r.error).toMatch(/no-such\.jsonl: ENOENT/);
    expect(JSON.parse(readFileSync(path.join(runDir, 'sinkhole-fetch.json'), 'utf8')).error).toBe(r.error);
  });

  it('over SSH: no prompt, options ended before the destination, the path one quoted shell word, the read bounded', () => {
    expect(sshFetchArgv({ ssh: 'airlock@10.20.0.1', path: "/var/log/airlock/it's here.jsonl" }, 1000)).toEqual([
      'ssh',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=15',
      '--',
      'airlock@10.20.0.1',
      "tail -c 1000 -- '/var/log/airlock/it'\\''s here.jsonl'",
    ]);
    // What the remote shell makes of the quoted word: the path itself.
    expect(shellQuote("a'b $(x) `y`")).toBe("'a'\\''b $(x) `y`'");
  });
});

describe('rig option lab.sinkhole_log', () => {
  const rigFromSource = (text: string, name: string) => {
    const f = path.join(tmp, name);
    writeFileSync(f, text);
    return loadRig(f);
  };
  const rig = (log: string) => `rig: bench\nlab:\n  subnets: [10.20.0.0/24]\n  sinkhole: 10.20.0.1\n  sinkhole_log: ${log}\ndevices:\n  drone: { address: 10.20.0.10 }\n`;

  it('reads both forms', () => {
    expect(rigFromSource(rig('{ path: /srv/lab/sinkhole.jsonl }'), 'bench.yaml').lab.sinkholeLog).toEqual({ path: '/srv/lab/sinkhole.jsonl' });
    expect(rigFromSource(rig('{ ssh: airlock@10.20.0.1, path: /var/log/airlock/sinkhole.jsonl }'), 'bench.yaml').lab.sinkholeLog).toEqual({
      ssh: 'airlock@10.20.0.1',
      path: '/var/log/airlock/sinkhole.jsonl',
    });
  });

  it("the real-bench rig file of docs/technician/proof-of-sight.md loads, with canary injection and the gateway's log over SSH", () => {
    const doc = readFileSync('docs/technician/proof-of-sight.md', 'utf8');
    const block = /## A real bench: rig file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const r = rigFromSource(block!, 'bench-7.yaml');
    // Over the gateway's management address: on its lab side the redirect takes port 22 to the sinkhole.
    expect(r.lab.sinkholeLog).toEqual({ ssh: 'airlock@192.168.50.1', path: '/var/log/airlock/sinkhole.jsonl' });
    expect(Object.keys(r.canaries?.inject ?? {})).toEqual(['bench', 'far-switch']);
  });

  it('refuses a relative path, an option-like SSH destination, an unknown key and a missing path, each at its line:col', () => {
    expect(configErrorOf(() => rigFromSource(rig('{ path: logs/s.jsonl }'), 'bench.yaml')).lines).toEqual([
      `${tmp}/bench.yaml:5:25: lab.sinkhole_log.path: "logs/s.jsonl" is not an absolute path of one line (write /var/log/airlock/sinkhole.jsonl)`,
    ]);
    expect(configErrorOf(() => rigFromSource(rig('{ ssh: -oProxyCommand=x, path: /l }'), 'bench.yaml')).lines).toEqual([
      `${tmp}/bench.yaml:5:24: lab.sinkhole_log.ssh: "-oProxyCommand=x" is not an SSH destination (write user@host, with no spaces and no leading "-")`,
    ]);
    expect(configErrorOf(() => rigFromSource(rig('{ path: /l, host: x }'), 'bench.yaml')).lines.join('\n')).toMatch(/bench\.yaml:5:\d+: lab\.sinkhole_log.*host/);
    expect(configErrorOf(() => rigFromSource(rig('{ ssh: a@b }'), 'bench.yaml')).lines.join('\n')).toMatch(/bench\.yaml:5:\d+: lab\.sinkhole_log.*path/);
  });
});
