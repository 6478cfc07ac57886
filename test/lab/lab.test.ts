import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { VirtualLab, cleanupStale } from '../../src/sim/lab/index.js';
import { readSinkholeLog } from '../../src/sim/sinkhole/index.js';
import { nodeScript } from '../../src/child-script.js';
import { labRig, testRunId } from './lab-rig.js';
import { alive, inNetns, netnsList, sh, waitFor } from './lab-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-lab-'));
const labs: VirtualLab[] = [];
afterAll(async () => {
  for (const l of labs) await l.down();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('VirtualLab', () => {
  it('comes up and goes down 100 times and leaves nothing behind', async () => {
    const t0 = Date.now();
    const ids: string[] = [];
    // Four labs at a time, 25 rounds each (runs share a host: every name carries the run id).
    // Most of a round is waiting on the kernel (namespaces and links made and torn down), not CPU.
    const lane = async (first: number): Promise<void> => {
      for (let i = first; i < 100; i += 4) {
        const id = testRunId();
        ids.push(id);
        // The sinkhole process (a Node child) is the slow part; start it on every 20th round.
        const lab = await VirtualLab.up({ runId: id, rig: labRig(), runDir: path.join(tmp, id), sinkhole: i % 20 === 0 });
        expect(netnsList()).toContain(lab.netns('drone'));
        await lab.down();
        await lab.down(); // idempotent
      }
    };
    await Promise.all([0, 1, 2, 3].map(lane));
    expect(ids).toHaveLength(100);
    const ms = Date.now() - t0;
    // A figure for the log, not an assertion: speed is measured in bench/, never asserted in tests.
    console.log(`100 x lab up/down: ${ms} ms (${(ms / 100).toFixed(0)} ms per round)`);
    const left = netnsList().filter((n) => ids.some((id) => n.startsWith(`al${id}-`)));
    expect(left).toEqual([]);
    expect(ids.filter((id) => fs.existsSync(`/run/airlock/${id}`))).toEqual([]);
  }, 300_000);

  it('removes the leftovers of a SIGKILLed run, and never a live run', async () => {
    const live = await VirtualLab.up({ runId: testRunId(), rig: labRig(), runDir: path.join(tmp, 'live'), sinkhole: false });
    labs.push(live);
    const id = testRunId();
    const child = spawn(nodeScript(import.meta.url, './owner-child')[0]!, [...nodeScript(import.meta.url, './owner-child').slice(1), id, path.join(tmp, id)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const ready = await waitFor(() => out.includes('\n') && (JSON.parse(out.split('\n')[0]!) as { sleeper: number; netns: string[] }), 30_000, 'owner child');
    expect(alive(ready.sleeper)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The crashed run is still there until someone cleans up.
    expect(netnsList()).toEqual(expect.arrayContaining(ready.netns));

    const removed = await cleanupStale();
    expect(removed).toContain(id);
    expect(removed).not.toContain(live.runId);
    const names = netnsList();
    expect(names.filter((n) => n.startsWith(`al${id}-`))).toEqual([]);
    expect(names).toContain(live.netns('drone'));
    await waitFor(() => !alive(ready.sleeper), 2000, 'the old run\'s process to die');
    expect(fs.existsSync(`/run/airlock/${id}`)).toBe(false);
    // No veth or bridge of the old run survives in any namespace: its namespaces are gone, and
    // the host namespace never had any.
    expect(sh('ip -o link show').split('\n').filter((l) => /\b(br0|air0|drone|controller|phone|sinkhole)\b/.test(l))).toEqual([]);
  }, 60_000);

  it('reaches nothing of the host machine; traffic to outside addresses lands at the sinkhole and is logged', async () => {
    const id = testRunId();
    const runDir = path.join(tmp, id);
    const lab = await VirtualLab.up({ runId: id, rig: labRig(), runDir });
    labs.push(lab);
    // A listener in the host namespace on every address: nothing from the lab may reach it.
    let hostConnections = 0;
    const server = net.createServer((s) => {
      hostConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '::', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const hostAddrs = (JSON.parse(sh('ip -j addr show')) as { addr_info: { local: string; scope: string }[] }[])
      .flatMap((i) => i.addr_info)
      .filter((a) => a.scope === 'global')
      .map((a) => a.local);
    expect(hostAddrs.length).toBeGreaterThan(0);
    // Sanity: the listener really is reachable from the host namespace itself.
    await new Promise<void>((resolve, reject) => net.connect(port, hostAddrs[0]!).on('connect', function (this: net.Socket) { this.destroy(); resolve(); }).on('error', reject));
    await waitFor(() => hostConnections === 1, 2000, 'host self-connection');

    for (const host of lab.hostNames()) {
      const ns = lab.netns(host);
      for (const a of hostAddrs) {
        await inNetns(ns, ['nc', '-w', '1', '-z', a, String(port)], 4000);
        expect(sh(`ip -n ${ns} route get ${a}`)).toMatch(a.includes(':') ? /via fd00:a1::1/ : /via 10\.231\.0\.1/);
      }
      await inNetns(ns, ['sh', '-c', `echo leak-${host} | nc -u -w 1 203.0.113.77 5000`], 4000);
    }
    server.close();
    expect(hostConnections).toBe(1);
    expect(sh(`ip netns exec ${lab.netns('sinkhole')} sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding`).trim().split('\n')).toEqual(['0', '0']);
    // Every veth of the lab has its peer in another namespace of the same lab (none in the host's).
    for (const ns of lab.allNetns()) {
      const veths = sh(`ip -n ${ns} -o link show type veth`).split('\n').filter(Boolean);
      for (const l of veths) {
        const peer = /link-netns (\S+)/.exec(l)?.[1];
        expect(lab.allNetns(), `${ns}: ${l}`).toContain(peer);
      }
    }

    const records = await waitFor(() => {
      const r = readSinkholeLog(lab.sinkholeLogFile());
      return r.filter((x) => x.proto === 'udp' && x.dst === '203.0.113.77').length >= 3 && r;
    }, 5000, 'sinkhole records');
    for (const host of lab.hostNames()) {
      const addr = lab.host(host).address;
      const udp = records.find((r) => r.proto === 'udp' && r.src === addr && r.dst === '203.0.113.77' && r.dstPort === 5000);
      expect(udp, host).toBeDefined();
      expect(Buffer.from(udp!.bytes!, 'hex').toString()).toBe(`leak-${host}\n`);
      for (const a of hostAddrs) {
        // The connection attempt to the host machine's address was answered by the sinkhole.
        expect(records.some((r) => r.proto === 'tcp' && r.dst === a && r.dstPort === port && (r.src === addr || r.src === lab.host(host).address6)), `${host} -> ${a}`).toBe(true);
      }
    }
  }, 60_000);

  it('answers DNS with the sinkhole address, and speaks HTTP/TLS only when the uplink is on', async () => {
    const id = testRunId();
    const lab = await VirtualLab.up({ runId: id, rig: labRig(), runDir: path.join(tmp, id) });
    labs.push(lab);
    const ns = lab.netns('phone');
    const a = await inNetns(ns, ['dig', '+short', '+time=2', '+tries=1', '@203.0.113.53', 'api.vendor.example', 'A']);
    expect(a.stdout.trim()).toBe('10.231.0.1');
    const aaaa = await inNetns(ns, ['dig', '+short', '+time=2', '+tries=1', '+tcp', '@10.231.0.1', 'api.vendor.example', 'AAAA']);
    expect(aaaa.stdout.trim()).toBe('fd00:a1::1');
    const off = await inNetns(ns, ['curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', 'http://203.0.113.9/']);
    expect(off.stdout).toBe('000');
    await lab.setService('uplink', true);
    const on = await inNetns(ns, ['curl', '-sk', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', '--resolve', 'api.vendor.example:443:203.0.113.9', 'https://api.vendor.example/x']);
    expect(on.stdout).toBe('200');
    await lab.setService('update-server', true);
    const offer = await inNetns(ns, ['curl', '-s', '-m', '3', '--resolve', 'update.lab:80:10.231.0.1', 'http://update.lab/update']);
    expect(JSON.parse(offer.stdout)).toMatchObject({ version: '9.9.9' });
    const recs = readSinkholeLog(lab.sinkholeLogFile());
    expect(recs.find((r) => r.proto === 'dns' && r.dst === '203.0.113.53')?.name).toBe('api.vendor.example');
    expect(recs.find((r) => r.proto === 'dns' && r.transport === 'tcp')?.qtype).toBe('AAAA');
    expect(recs.some((r) => r.proto === 'tcp' && r.dst === '203.0.113.9' && r.dstPort === 443 && r.name === 'api.vendor.example')).toBe(true);
  }, 60_000);
});
