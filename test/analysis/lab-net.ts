/**
 * A two-namespace test lab for the analysis tests: `dev` (the device, 10.<n>.0.2) and `peer`
 * (the lab gateway 10.<n>.0.1, which also holds the documentation "outside" addresses on its
 * loopback, so traffic to them ends there and never leaves the host). Names carry a unique id.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface TestLab {
  dev: string;
  peer: string;
  devIf: string;
  peerIf: string;
  net: number;
  /** Runs a command inside a namespace; never throws (tools like dig exit non-zero on timeouts). */
  run(ns: string, argv: string[], input?: string | Buffer): { code: number; stdout: string };
  /** Starts a long-lived process inside a namespace (listeners, tcpdump). */
  start(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

export function createLab(outside: string[] = [], outside6: string[] = []): TestLab {
  const id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`.slice(-7);
  const net = 64 + (process.pid % 60) + Math.floor(Math.random() * 60);
  const lab: TestLab = {
    dev: `tan-${id}-dev`,
    peer: `tan-${id}-peer`,
    devIf: `tna${id}`,
    peerIf: `tnb${id}`,
    net,
    run(ns, argv, input) {
      try {
        const stdout = execFileSync('ip', ['netns', 'exec', ns, ...argv], { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000 });
        return { code: 0, stdout: stdout.toString() };
      } catch (e) {
        const err = e as { status?: number; stdout?: Buffer };
        return { code: err.status ?? -1, stdout: err.stdout?.toString() ?? '' };
      }
    },
    start(ns, argv) {
      return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
    destroy() {
      for (const ns of [lab.dev, lab.peer]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          /* already gone */
        }
      }
    },
  };
  try {
    ip('netns', 'add', lab.dev);
    ip('netns', 'add', lab.peer);
    ip('link', 'add', lab.devIf, 'type', 'veth', 'peer', 'name', lab.peerIf);
    ip('link', 'set', lab.devIf, 'netns', lab.dev);
    ip('link', 'set', lab.peerIf, 'netns', lab.peer);
    const inNs = (ns: string, ...args: string[]): void => ip('-n', ns, ...args);
    inNs(lab.dev, 'addr', 'add', `10.${net}.0.2/24`, 'dev', lab.devIf);
    inNs(lab.dev, 'addr', 'add', `2001:db8:${net}::2/64`, 'dev', lab.devIf, 'nodad');
    inNs(lab.peer, 'addr', 'add', `10.${net}.0.1/24`, 'dev', lab.peerIf);
    inNs(lab.peer, 'addr', 'add', `2001:db8:${net}::1/64`, 'dev', lab.peerIf, 'nodad');
    for (const a of outside) inNs(lab.peer, 'addr', 'add', `${a}/32`, 'dev', 'lo');
    for (const a of outside6) inNs(lab.peer, 'addr', 'add', `${a}/128`, 'dev', 'lo');
    for (const ns of [lab.dev, lab.peer]) inNs(ns, 'link', 'set', 'lo', 'up');
    inNs(lab.dev, 'link', 'set', lab.devIf, 'up');
    inNs(lab.peer, 'link', 'set', lab.peerIf, 'up');
    inNs(lab.dev, 'route', 'add', 'default', 'via', `10.${net}.0.1`);
    inNs(lab.dev, '-6', 'route', 'add', 'default', 'via', `2001:db8:${net}::1`);
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/** Starts tcpdump in `ns` and resolves once it is listening. */
export async function startTcpdump(lab: TestLab, ns: string, iface: string, file: string): Promise<() => Promise<void>> {
  const child = lab.start(ns, ['tcpdump', '-n', '-U', '--immediate-mode', '-i', iface, '-w', file]);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${err}`));
    });
  });
  return async () => {
    const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.kill('SIGINT');
    await done;
  };
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
