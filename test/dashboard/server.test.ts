/**
 * The dashboard server (src/dashboard/server.ts): it listens on 127.0.0.1 only (checked in the
 * kernel's socket table), streams the run's events as Server-Sent Events, serves the page and its
 * assets from the package with a Content Security Policy, refuses writes, foreign Host headers and
 * every way out of the run directory (.., encoded .., symlinks, FIFOs); and `airlock dashboard`
 * follows a run's events.jsonl as it grows.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardError, DashboardHub, followEvents, startDashboardServer, type DashboardServer } from '../../src/dashboard/index.js';
import { dashboardCommand } from '../../src/cli/commands/dashboard.js';
import { memoryIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/args.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-dashboard-test-'));
const runDir = path.join(tmp, 'run');
const secret = path.join(tmp, 'secret.txt');
let hub: DashboardHub;
let server: DashboardServer;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path is sent exactly as written (fetch would normalise `..`). */
function get(port: number, rawPath: string, opts: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout on ${rawPath}`)));
    req.end();
  });
}

/** Reads Server-Sent Events until `until` says enough; returns them as [event name, data]. */
function readEvents(port: number, until: (events: Array<[string, string]>) => boolean): Promise<Array<[string, string]>> {
  return new Promise((resolve, reject) => {
    const events: Array<[string, string]> = [];
    const req = http.get({ host: '127.0.0.1', port, path: '/events', headers: { host: `127.0.0.1:${port}`, accept: 'text/event-stream' } }, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) events.push([name, data.join('\n')]);
          if (until(events)) {
            req.destroy();
            resolve(events);
            return;
          }
        }
      });
    });
    req.on('error', (e) => (events.length && until(events) ? undefined : reject(e)));
    req.setTimeout(10_000, () => req.destroy(new Error('no events in time')));
  });
}

/** The listening TCP sockets on `port`, as the kernel lists them (address:port in hex, host byte order). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (file: string) =>
    fs.existsSync(file)
      ? fs.readFileSync(file, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 3 && f[3] === '0A' && f[1]!.endsWith(`:${hexPort}`))
      : [];
  return [...rows('/proc/net/tcp'), ...rows('/proc/net/tcp6')].map((f) => f[1]!);
}

beforeAll(async () => {
  fs.mkdirSync(runDir);
  fs.writeFileSync(secret, 'not for the browser\n');
  fs.writeFileSync(path.join(runDir, 'result.json'), '{"verdict":"FAIL"}\n');
  fs.writeFileSync(path.join(runDir, 'net-drone.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 1, 2, 3]));
  fs.writeFileSync(path.join(runDir, '.hidden'), 'x');
  fs.symlinkSync(secret, path.join(runDir, 'link.txt'));
  fs.symlinkSync(tmp, path.join(runDir, 'up'));
  execFileSync('mkfifo', [path.join(runDir, 'fifo.txt')]);
  hub = new DashboardHub();
  server = await startDashboardServer({ hub, runDir: () => runDir, keepAliveMs: 200 });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dashboard server', () => {
  it('listens on 127.0.0.1 only, on a port the system chose', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
    // 0100007F is 127.0.0.1 in /proc/net/tcp; nothing listens on that port on any other address.
    expect(listeners(server.port)).toEqual([`0100007F:${server.port.toString(16).toUpperCase().padStart(4, '0')}`]);
  });

  it('refuses any other bind address and a port in use, as input errors (exit 2)', async () => {
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', '192.168.1.10']) {
      await expect(startDashboardServer({ hub, host })).rejects.toThrow(DashboardError);
      await expect(startDashboardServer({ hub, host })).rejects.toThrow(/127\.0\.0\.1 only/);
    }
    const e = await startDashboardServer({ hub, port: server.port }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DashboardError);
    expect((e as DashboardError).category).toBe('input');
    expect((e as Error).message).toMatch(/in use/);
  });

  it('serves the page and its assets from the package, with a Content Security Policy', async () => {
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // No CDN: every script and stylesheet is this server's (the icon is an empty data: URL, so no favicon request).
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.sort()).toEqual(['/app.css', '/app.js', '/uplot.css', '/uplot.js', 'data:,']);
    const uplot = await get(server.port, '/uplot.js');
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot')), 'uPlot.iife.min.js');
    expect(uplot.body).toBe(fs.readFileSync(file, 'utf8'));
    expect(uplot.headers['content-type']).toMatch(/javascript/);
  });

  it('has no write endpoint and refuses a foreign Host header (DNS rebinding)', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await get(server.port, '/api/state', { method })).status).toBe(405);
    expect((await get(server.port, '/', { host: 'evil.example:80' })).status).toBe(421);
    expect((await get(server.port, '/api/state', { host: `attacker.test:${server.port}` })).status).toBe(421);
    expect((await get(server.port, '/', { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('serves run files read-only and refuses every way out of the run directory', async () => {
    const ok = await get(server.port, '/files/result.json');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('{"verdict":"FAIL"}\n');
    const pcap = await get(server.port, '/files/net-drone.pcap');
    expect(pcap.status).toBe(200);
    expect(pcap.headers['content-disposition']).toBe('attachment; filename="net-drone.pcap"');
    expect(pcap.headers['content-security-policy']).toMatch(/sandbox/);
    for (const p of [
      '/files/../secret.txt',
      '/files/..%2fsecret.txt',
      '/files/%2e%2e/secret.txt',
      '/files/%2e%2e%2fsecret.txt',
      '/files/run/..%2f..%2fsecret.txt',
      '/files/%2fetc%2fpasswd',
      '/files//etc/passwd',
      '/files/link.txt',
      '/files/up/secret.txt',
      '/files/.hidden',
      '/files/fifo.txt',
      '/files/result.json%00.txt',
    ]) {
      const r = await get(server.port, p);
      expect([403, 404], `${p}: ${r.status} ${r.body}`).toContain(r.status);
      expect(r.body).not.toContain('not for the browser');
    }
    expect((await get(server.port, '/files/link.txt')).status).toBe(403);
    expect((await get(server.port, '/files/fifo.txt')).status).toBe(403);
  });

  it('streams the state first, then every event as published, in order (SSE)', async () => {
    hub.publish({ type: 'start', runDir, runId: 'r1', scenario: 'system-off', rig: 'virtual', phases: ['boot', 'quiet'], time: '2026-01-01T00:00:00.000Z' });
    hub.publish({ type: 'phase', index: 0, name: 'boot', total: 2, time: '2026-01-01T00:00:01.000Z' });
    const got = readEvents(server.port, (ev) => ev.some(([, d]) => d.includes('"done"')));
    // The snapshot reaches the client before the later events are published.
    await new Promise((r) => setTimeout(r, 300));
    hub.publish({ type: 'counters', elapsedMs: 1000, captures: { 'net-drone': 5 }, amps: { drone: 0.31 }, time: '2026-01-01T00:00:02.000Z' });
    hub.publish({
      type: 'finding', live: true, window: 'boot', phase: 'boot', assertion: 'no_egress', text: 'drone 10.231.0.10 -> 93.184.216.34:443 TLS example.com',
      names: ['example.com'], capture: 'net-drone', file: 'net-drone.pcap', packet: 17, at: '2026-01-01T00:00:02.500Z', time: '2026-01-01T00:00:02.600Z',
    });
    hub.publish({ type: 'done', verdict: 'FAIL', exitCode: 1, runDir, phases: [{ name: 'boot', verdict: 'FAIL' }], time: '2026-01-01T00:00:09.000Z' });
    const events = await got;
    expect(events[0]![0]).toBe('snapshot');
    const snap = JSON.parse(events[0]![1]) as { run: { runId: string }; current: number; phases: Array<{ status: string }> };
    expect(snap.run.runId).toBe('r1');
    expect(snap.current).toBe(0);
    expect(snap.phases.map((p) => p.status)).toEqual(['running', 'pending']);
    const rest = events.slice(1).filter(([n]) => n === 'message').map(([, d]) => JSON.parse(d) as { type: string });
    expect(rest.map((e) => e.type)).toEqual(['counters', 'finding', 'done']);
    expect(rest[1]).toMatchObject({ file: 'net-drone.pcap', packet: 17 });
    const state = JSON.parse((await get(server.port, '/api/state')).body) as { findingsTotal: number; done: { verdict: string }; history: { series: Record<string, { last: number[] }> } };
    expect(state.findingsTotal).toBe(1);
    expect(state.done.verdict).toBe('FAIL');
    expect(state.history.series['amps:drone']!.last).toEqual([0.31]);
  });
});

describe('following events.jsonl', () => {
  it('picks up lines as the run appends them, skips damaged and overlong ones, stops at done', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'follow-'));
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, JSON.stringify({ type: 'start', runDir: dir, runId: 'f1', scenario: 's', rig: 'virtual', phases: ['a'] }) + '\n{not json\n');
    const h = new DashboardHub();
    const f = followEvents(file, h, { pollMs: 20, maxLineBytes: 1000 });
    await f.caughtUp;
    expect(h.state.snapshot().run?.runId).toBe('f1');
    fs.appendFileSync(file, JSON.stringify({ type: 'phase', index: 0, name: 'a', total: 1 }) + '\n' + 'x'.repeat(5000) + '\n' + JSON.stringify({ type: 'counters', amps: { drone: 1.5 }, captures: {} }).slice(0, 10));
    await waitUntil(() => h.state.snapshot().current === 0);
    // The rest of a line written in two pieces.
    fs.appendFileSync(file, JSON.stringify({ type: 'counters', amps: { drone: 1.5 }, captures: {} }).slice(10) + '\n');
    await waitUntil(() => h.state.snapshot().counters !== undefined);
    fs.appendFileSync(file, JSON.stringify({ type: 'done', verdict: 'PASS', exitCode: 0, runDir: dir, phases: [] }) + '\n');
    await waitUntil(() => h.state.finished);
    expect(f.skipped).toBe(2);
    expect((h.state.snapshot().counters as unknown as { amps: Record<string, number> }).amps.drone).toBe(1.5);
  });

  it('refuses an events.jsonl that is a symlink, and a directory without one', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'follow-link-'));
    fs.symlinkSync(secret, path.join(dir, 'events.jsonl'));
    expect(() => followEvents(path.join(dir, 'events.jsonl'), new DashboardHub())).toThrow(DashboardError);
    expect(() => followEvents(path.join(tmp, 'nowhere', 'events.jsonl'), new DashboardHub())).toThrow(/not found/);
  });

  it('`airlock dashboard <run-dir>` serves a run it follows; a directory with no events is exit 2', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cmd-'));
    fs.writeFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ type: 'start', runDir: '/elsewhere', runId: 'c1', scenario: 's', rig: 'virtual', phases: ['a'] }) + '\n');
    fs.writeFileSync(path.join(dir, 'report.html'), '<p>report</p>\n');
    const io = memoryIO();
    const stop = new AbortController();
    let url = '';
    const done = dashboardCommand({ runDir: dir, signal: stop.signal, onListening: (u) => (url = u) }, io);
    await waitUntil(() => url !== '');
    const port = Number(new URL(url).port);
    expect(io.stderr.join('\n')).toContain(url);
    // Files come from the directory given, not from the path the stream names.
    expect((await get(port, '/files/report.html')).body).toBe('<p>report</p>\n');
    fs.appendFileSync(path.join(dir, 'events.jsonl'), JSON.stringify({ type: 'phase', index: 0, name: 'a', total: 1 }) + '\n');
    await waitUntil(async () => (JSON.parse((await get(port, '/api/state')).body) as { current?: number }).current === 0);
    stop.abort();
    expect(await done).toBe(0);

    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const io2 = memoryIO();
    expect(await main(['dashboard', empty], io2)).toBe(2);
    expect(io2.stderr.join('\n')).toMatch(/events\.jsonl not found/);
    expect(await main(['dashboard', empty, '--port', '99999'], io2)).toBe(2);
  });
});

async function waitUntil(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
