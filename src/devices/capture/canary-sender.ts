/**
 * Canaries: Airlock's own marked packets, sent from inside each device's namespace (so they
 * cross the links the device's traffic crosses) to a lab address and to an outside one, at
 * known times. The analysis requires each one in the capture; a phase missing one is
 * INCONCLUSIVE. One small child per namespace; the per-run secret goes to it on stdin.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnInGroup } from '../../process-groups.js';
import type pino from 'pino';
import { nodeScript } from '../../child-script.js';
import { CanaryStartError } from './errors.js';
export { readSinkholeLog } from '../../analysis/sinkhole-log.js';
export type { SinkholeRecord } from '../../analysis/sinkhole-log.js';

/** The outside address canaries go to on the virtual rig (a documentation address, routed to the sinkhole). */
export const CANARY_OUTSIDE_TARGET = '203.0.113.99';

export interface SentCanary {
  host: string;
  seq: number;
  target: 'lab' | 'outside';
  dst: string;
  dstPort: number;
  sentAtMs: number;
}

export interface CanarySenderOptions {
  runId: string;
  secret: string;
  /** The lab (anything with netns(host)), or a map host -> namespace name. */
  lab: { netns(host: string): string } | Record<string, string>;
  hosts: string[];
  /** A lab address (e.g. the sinkhole's). */
  labTarget: string;
  /** An outside documentation address (routed to the sinkhole inside the lab). */
  outsideTarget: string;
  /** 0 = only on sendNow(). */
  intervalMs: number;
  log?: pino.Logger;
}

interface Sender {
  host: string;
  child: ChildProcess;
  waiters: (() => void)[];
}

export class CanarySender {
  private readonly opts: CanarySenderOptions;
  private readonly senders: Sender[] = [];
  private readonly sent: SentCanary[] = [];

  constructor(opts: CanarySenderOptions) {
    this.opts = opts;
  }

  private netnsOf(host: string): string {
    const lab = this.opts.lab;
    return typeof (lab as { netns?: unknown }).netns === 'function' ? (lab as { netns(h: string): string }).netns(host) : (lab as Record<string, string>)[host]!;
  }

  /** Starts one sender per host; resolves when each has sent its first round. */
  async start(): Promise<void> {
    const script = nodeScript(import.meta.url, '../../sim/lab/canary-child');
    await Promise.all(
      this.opts.hosts.map(
        (host) =>
          new Promise<void>((resolve, reject) => {
            const ns = this.netnsOf(host);
            if (!ns) return reject(new CanaryStartError(host, 'no namespace for this host'));
            const child = spawnInGroup('ip', ['netns', 'exec', ns, ...script], { stdio: ['pipe', 'pipe', 'pipe'] });
            const s: Sender = { host, child, waiters: [] };
            this.senders.push(s);
            let buf = '';
            let ready = false;
            let err = '';
            child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
            child.stdout!.setEncoding('utf8').on('data', (d: string) => {
              buf += d;
              let i: number;
              while ((i = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, i);
                buf = buf.slice(i + 1);
                const m = JSON.parse(line) as SentCanary & { ready?: boolean };
                if (m.ready) {
                  ready = true;
                  resolve();
                } else {
                  this.sent.push(m);
                  for (const w of s.waiters.splice(0)) w();
                }
              }
            });
            child.on('exit', (code) => {
              for (const w of s.waiters.splice(0)) w();
              if (!ready) reject(new CanaryStartError(host, `exited (${code}): ${err.trim()}`));
            });
            child.stdin!.on('error', () => undefined);
            const o = this.opts;
            child.stdin!.write(JSON.stringify({ runId: o.runId, host, secret: o.secret, labTarget: o.labTarget, outsideTarget: o.outsideTarget, intervalMs: o.intervalMs }) + '\n');
          }),
      ),
    );
    this.opts.log?.info({ hosts: this.opts.hosts }, 'canary senders started');
  }

  /** Sends one round from every host now; resolves when each has reported it sent. */
  async sendNow(): Promise<SentCanary[]> {
    const before = this.sent.length;
    await Promise.all(
      this.senders.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null) return resolve();
            const want = this.sent.filter((c) => c.host === s.host).length + 2;
            const check = () => {
              if (this.sent.filter((c) => c.host === s.host).length >= want || s.child.exitCode !== null) resolve();
              else s.waiters.push(check);
            };
            s.waiters.push(check);
            s.child.stdin!.write('send\n');
          }),
      ),
    );
    return this.sent.slice(before);
  }

  /** Canaries sent so far. */
  list(): SentCanary[] {
    return this.sent.slice();
  }

  async stop(): Promise<SentCanary[]> {
    await Promise.all(
      this.senders.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
            s.child.once('exit', () => resolve());
            s.child.stdin!.end();
            setTimeout(() => s.child.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    return this.sent.slice().sort((a, b) => a.sentAtMs - b.sentAtMs || a.seq - b.seq);
  }
}
