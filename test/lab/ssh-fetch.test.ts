/**
 * The SSH form of lab.sinkhole_log against a real OpenSSH server: sshd runs in a network
 * namespace as the "gateway" (its own host key, one authorized key), and Airlock's fetch
 * (src/rig/sinkhole-fetch.ts) reads the log with `ssh -T -o BatchMode=yes`. The fetch runs in a
 * private mount namespace whose /root is a tmpfs holding only the test's key and known_hosts,
 * so the host's own SSH files are neither read nor changed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSinkholeLog } from '../../src/analysis/sinkhole-log.js';

const require = createRequire(import.meta.url);
const id = process.pid.toString(36).slice(-5);
const NS = `ss${id}-gw`;
const HOST_IF = `ss${id}h`;
const GW_IF = `ss${id}g`;
const GW = '10.97.0.2';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-ssh-fetch-'));
chmodSync(tmp, 0o755);
let sshd: ChildProcess | undefined;

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const line = (o: object) => JSON.stringify(o);
const live = (at: number, event = 'heartbeat') => line({ time: new Date(T0 + at).toISOString(), t: T0 + at, event, instance: 'abcdef0123456789', heartbeatMs: 1000 });
const rec = (at: number, dst: string) => line({ time: new Date(T0 + at).toISOString(), t: T0 + at, proto: 'udp', src: '10.20.0.10', srcPort: 5353, dst, dstPort: 9 });

function fetchOverSsh(dest: string, remotePath: string, runDir: string): Record<string, unknown> {
  const tsx = require.resolve('tsx');
  const keyDir = path.join(tmp, 'client');
  const script = [
    'set -e',
    'mount -t tmpfs -o mode=0700 airlock-test /root',
    'mkdir -m 0700 /root/.ssh',
    `cp ${keyDir}/id_ed25519 /root/.ssh/id_ed25519`,
    `cp ${keyDir}/known_hosts /root/.ssh/known_hosts`,
    'chmod 600 /root/.ssh/id_ed25519',
    `exec "${process.execPath}" --import "${tsx}" test/lab/ssh-fetch-child.ts "$@"`,
  ].join('\n');
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dest, remotePath, runDir, String(T0), String(T0 + 2000)], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

beforeAll(async () => {
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', GW_IF, 'netns', NS]);
  execFileSync('ip', ['addr', 'add', '10.97.0.1/30', 'dev', HOST_IF]);
  execFileSync('ip', ['link', 'set', HOST_IF, 'up']);
  execFileSync('ip', ['-n', NS, 'addr', 'add', `${GW}/30`, 'dev', GW_IF]);
  execFileSync('ip', ['-n', NS, 'link', 'set', GW_IF, 'up']);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  execFileSync('mkdir', ['-p', path.join(tmp, 'client')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'host_ed25519')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'client', 'id_ed25519')]);
  writeFileSync(path.join(tmp, 'authorized_keys_root'), readFileSync(path.join(tmp, 'client', 'id_ed25519.pub')));
  writeFileSync(path.join(tmp, 'client', 'known_hosts'), `${GW} ${readFileSync(path.join(tmp, 'host_ed25519.pub'), 'utf8')}`);
  writeFileSync(
    path.join(tmp, 'sshd_config'),
    [
      `ListenAddress ${GW}`,
      `HostKey ${tmp}/host_ed25519`,
      `AuthorizedKeysFile ${tmp}/authorized_keys_%u`,
      `PidFile ${tmp}/sshd.pid`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
    ].join('\n') + '\n',
  );
  execFileSync('mkdir', ['-p', '/run/sshd']); // sshd's privilege-separation directory
  sshd = spawn('ip', ['netns', 'exec', NS, '/usr/sbin/sshd', '-D', '-e', '-f', path.join(tmp, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    sshd!.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Server listening')) resolve();
    });
    sshd!.once('exit', (code) => reject(new Error(`sshd exited ${code}: ${err}`)));
  });
}, 60_000);

afterAll(() => {
  sshd?.kill('SIGTERM');
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } catch {
    // Not made (beforeAll failed early): nothing to remove; the veth goes with the namespace.
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('lab.sinkhole_log over SSH, against a real sshd', () => {
  it("reads the log's run span over ssh -T -o BatchMode=yes, a path with a space and a quote intact", { timeout: 120_000 }, () => {
    const remote = path.join(tmp, "gateway log's dir");
    execFileSync('mkdir', ['-p', remote]);
    const file = path.join(remote, 'sinkhole.jsonl');
    writeFileSync(file, [live(-3000, 'start'), rec(-2000, '203.0.113.1'), live(-1000), rec(500, '203.0.113.7'), live(1000), live(2000), live(3000)].join('\n') + '\n');
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const report = fetchOverSsh(`root@${GW}`, file, runDir);
    expect(report).toMatchObject({ source: `root@${GW}:${file} (over SSH)`, records: 1, liveness: 3, rejected: 0 });
    const kept = parseSinkholeLog(readFileSync(path.join(runDir, 'sinkhole.jsonl'), 'utf8'));
    expect(kept.records.map((r) => r.dst)).toEqual(['203.0.113.7']);
    // The liveness lines just before and just after the span [T0, T0 + 2 s], and those inside it.
    expect(kept.liveness.map((l) => l.t - T0)).toEqual([-1000, 1000, 2000]);
  });

  it('a login the gateway refuses: the error is recorded (never a prompt, never a hang), no sinkhole.jsonl', { timeout: 120_000 }, () => {
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const report = fetchOverSsh(`nobody@${GW}`, '/var/log/airlock/sinkhole.jsonl', runDir);
    expect(report.error).toMatch(new RegExp(`^nobody@${GW.replace(/\./g, '\\.')}:/var/log/airlock/sinkhole\\.jsonl \\(over SSH\\): ssh exited 255: .*Permission denied`));
    expect(() => readFileSync(path.join(runDir, 'sinkhole.jsonl'))).toThrow();
  });
});
