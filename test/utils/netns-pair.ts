/**
 * Two network namespaces joined by a veth pair, for tests: `inner` (the device side) and `gateway`
 * (the lab gateway, which also holds the documentation "outside" addresses on its loopback, so
 * traffic to them ends there and never leaves the host). Every name carries a unique id per call;
 * destroy() removes both namespaces (and with them the veth and the addresses).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface NetnsPair {
  /** Namespace of the device side. */
  inner: string;
  /** Namespace of the lab gateway. */
  gateway: string;
  innerIf: string;
  gatewayIf: string;
  /** Runs a command inside a namespace; never throws (tools like dig exit non-zero on timeouts). */
  run(ns: string, argv: string[], input?: string | Buffer): { code: number; stdout: string };
  /** Starts a long-lived process inside a namespace (listeners, tcpdump). */
  start(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

export interface LinkAddresses {
  inner: string;
  gateway: string;
  prefixLen: number;
}

export interface NetnsPairOptions {
  /** Short tag (up to 4 characters) that starts every name, so leftovers show whose they are. */
  tag: string;
  /** Suffixes of the two namespace names: `<tag>-<id>-<suffix>`. */
  innerName: string;
  gatewayName: string;
  ipv4: LinkAddresses;
  /** IPv6 on the link (added with nodad); without it IPv6 is switched off in both namespaces. */
  ipv6?: LinkAddresses;
  /** Documentation addresses put on the gateway's loopback (v4 as /32, v6 as /128). */
  outside?: string[];
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });

export function createNetnsPair(o: NetnsPairOptions): NetnsPair {
  // 15-character limit on interface names: tag (<=4) + 'a'/'b' + 7-character id.
  const id = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`.slice(-7);
  const pair: NetnsPair = {
    inner: `${o.tag}-${id}-${o.innerName}`,
    gateway: `${o.tag}-${id}-${o.gatewayName}`,
    innerIf: `${o.tag}a${id}`,
    gatewayIf: `${o.tag}b${id}`,
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
      for (const ns of [pair.inner, pair.gateway]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          /* the namespace is already gone (a failed set-up never made it): nothing to remove */
        }
      }
    },
  };
  const { inner, gateway, innerIf, gatewayIf } = pair;
  const inNs = (ns: string, ...args: string[]): void => ip('-n', ns, ...args);
  try {
    ip('netns', 'add', inner);
    ip('netns', 'add', gateway);
    if (!o.ipv6) {
      // The kernel's link-up chatter (DAD, MLD, router solicitations) would otherwise land in
      // whichever capture happens to be first and make comparisons depend on timing.
      for (const ns of [inner, gateway]) {
        execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'pipe' });
      }
    }
    ip('link', 'add', innerIf, 'type', 'veth', 'peer', 'name', gatewayIf);
    ip('link', 'set', innerIf, 'netns', inner);
    ip('link', 'set', gatewayIf, 'netns', gateway);
    inNs(inner, 'addr', 'add', `${o.ipv4.inner}/${o.ipv4.prefixLen}`, 'dev', innerIf);
    inNs(gateway, 'addr', 'add', `${o.ipv4.gateway}/${o.ipv4.prefixLen}`, 'dev', gatewayIf);
    if (o.ipv6) {
      inNs(inner, 'addr', 'add', `${o.ipv6.inner}/${o.ipv6.prefixLen}`, 'dev', innerIf, 'nodad');
      inNs(gateway, 'addr', 'add', `${o.ipv6.gateway}/${o.ipv6.prefixLen}`, 'dev', gatewayIf, 'nodad');
    }
    for (const a of o.outside ?? []) inNs(gateway, 'addr', 'add', a.includes(':') ? `${a}/128` : `${a}/32`, 'dev', 'lo');
    for (const ns of [inner, gateway]) inNs(ns, 'link', 'set', 'lo', 'up');
    inNs(inner, 'link', 'set', innerIf, 'up');
    inNs(gateway, 'link', 'set', gatewayIf, 'up');
    inNs(inner, 'route', 'add', 'default', 'via', o.ipv4.gateway);
    if (o.ipv6) inNs(inner, '-6', 'route', 'add', 'default', 'via', o.ipv6.gateway);
  } catch (e) {
    pair.destroy();
    throw e;
  }
  return pair;
}

/**
 * Starts tcpdump on `iface` inside `ns` writing `file`; resolves once it listens. The returned
 * function waits `drainMs` (to let the last packets through the capture ring), stops tcpdump
 * with SIGINT, waits for it to exit and checks that the file exists.
 */
export async function startTcpdump(ns: string, iface: string, file: string, opts: { drainMs?: number } = {}): Promise<() => Promise<void>> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-U', '--immediate-mode', '-i', iface, '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
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
    if (opts.drainMs) await new Promise((r) => setTimeout(r, opts.drainMs));
    if (child.exitCode === null && child.signalCode === null) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
    }
    if (!fs.existsSync(file)) throw new Error(`tcpdump wrote no ${file}`);
  };
}
