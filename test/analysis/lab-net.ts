/**
 * The analysis tests' lab: a netns pair `tan-<id>-dev` (the device, 10.<n>.0.2, 2001:db8:<n>::2)
 * and `tan-<id>-peer` (the gateway 10.<n>.0.1, 2001:db8:<n>::1, holding the given outside
 * addresses on its loopback), plus tshark helpers to cross-check captures.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createNetnsPair, type NetnsPair } from '../utils/netns-pair.js';

export interface TestLab extends NetnsPair {
  /** The lab's subnets are 10.<net>.0.0/24 and 2001:db8:<net>::/64. */
  net: number;
}

export function createLab(outside: string[] = [], outside6: string[] = []): TestLab {
  const net = 64 + (process.pid % 60) + Math.floor(Math.random() * 60);
  const pair = createNetnsPair({
    tag: 'tan',
    innerName: 'dev',
    gatewayName: 'peer',
    ipv4: { inner: `10.${net}.0.2`, gateway: `10.${net}.0.1`, prefixLen: 24 },
    ipv6: { inner: `2001:db8:${net}::2`, gateway: `2001:db8:${net}::1`, prefixLen: 64 },
    outside: [...outside, ...outside6],
  });
  return Object.assign(pair, { net });
}

/** tshark fields, one row per frame, first occurrence of each field. */
export function tshark(file: string, filter: string, fields: string[]): string[][] {
  let out: string;
  try {
    out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  } catch (e) {
    // tshark exits non-zero on a damaged file after printing what it could read.
    const err = e as { stdout?: Buffer; stderr?: Buffer };
    if (!err.stderr?.toString().match(/cut short|don't match|appears to be damaged|corrupt/)) throw e;
    out = err.stdout?.toString() ?? '';
  }
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

/** tshark() without blocking, so independent checks can run side by side. */
export function tsharkAsync(file: string, filter: string, fields: string[]): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    execFile(
      'tshark',
      ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && !/cut short|don't match|appears to be damaged|corrupt/.test(stderr)) return reject(error);
        resolve(stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')));
      },
    );
  });
}

/**
 * Capture with tcpdump in `ns` on `iface` into `out` (snap length 128, filter words as given) while
 * `run` makes the traffic: `run` starts once tcpdump says it is listening, and tcpdump is stopped
 * with SIGINT half a second after `run` returns, so the file is complete when this resolves.
 */
export async function capture(ns: string, iface: string, out: string, filter: string[], run: () => void): Promise<void> {
  const td = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-U', '-s', '128', '-i', iface, '-w', out, ...filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    td.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    td.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  run();
  await new Promise((r) => setTimeout(r, 500));
  const done = new Promise((r) => td.once('exit', r));
  td.kill('SIGINT');
  await done;
}
