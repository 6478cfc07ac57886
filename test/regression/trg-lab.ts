/**
 * A two-namespace lab for the regression tests: `dut` (10.231.0.10, the drone) and `sink`
 * (10.231.0.1, the lab gateway, which also holds the documentation "outside" address
 * 203.0.113.7 on its loopback so traffic to it ends there and never leaves the host).
 * Names carry a unique id (prefix trg-); destroy() removes them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export const LAB_NET = '10.231.0.0/24';
export const DUT = '10.231.0.10';
export const SINK = '10.231.0.1';
export const OUTSIDE = '203.0.113.7';

export interface TrgLab {
  dut: string;
  sink: string;
  dutIf: string;
  run(ns: string, argv: string[]): { code: number; stdout: string };
  start(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

export function createTrgLab(): TrgLab {
  const id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`.slice(-6);
  const lab: TrgLab = {
    dut: `trg-${id}-dut`,
    sink: `trg-${id}-sink`,
    dutIf: `trga${id}`,
    run(ns, argv) {
      try {
        const stdout = execFileSync('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
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
      for (const ns of [lab.dut, lab.sink]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          /* already gone */
        }
      }
    },
  };
  const sinkIf = `trgb${id}`;
  try {
    ip('netns', 'add', lab.dut);
    ip('netns', 'add', lab.sink);
    // No IPv6 on these links: the kernel's link-up chatter (DAD, MLD, router solicitations) would
    // land in whichever run happens to be first and make the comparisons depend on timing.
    for (const ns of [lab.dut, lab.sink]) {
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'pipe' });
    }
    ip('link', 'add', lab.dutIf, 'type', 'veth', 'peer', 'name', sinkIf);
    ip('link', 'set', lab.dutIf, 'netns', lab.dut);
    ip('link', 'set', sinkIf, 'netns', lab.sink);
    ip('-n', lab.dut, 'addr', 'add', `${DUT}/24`, 'dev', lab.dutIf);
    ip('-n', lab.sink, 'addr', 'add', `${SINK}/24`, 'dev', sinkIf);
    ip('-n', lab.sink, 'addr', 'add', `${OUTSIDE}/32`, 'dev', 'lo');
    for (const ns of [lab.dut, lab.sink]) ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', lab.dut, 'link', 'set', lab.dutIf, 'up');
    ip('-n', lab.sink, 'link', 'set', sinkIf, 'up');
    ip('-n', lab.dut, 'route', 'add', 'default', 'via', SINK);
  } catch (e) {
    lab.destroy();
    throw e;
  }
  return lab;
}

/** Starts tcpdump on the DUT's link; resolves once it listens; the returned function stops it (SIGINT) and waits. */
export async function captureDut(lab: TrgLab, file: string): Promise<() => Promise<void>> {
  const child = spawn('ip', ['netns', 'exec', lab.dut, 'tcpdump', '-i', lab.dutIf, '--immediate-mode', '-U', '-n', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  return async () => {
    await sleep(200); // let the last packets through the capture ring before SIGINT
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await done;
    if (!fs.existsSync(file)) throw new Error(`tcpdump wrote no ${file}`);
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
