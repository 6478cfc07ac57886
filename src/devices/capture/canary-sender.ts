/**
 * Canaries: Airlock's own marked packets (src/analysis/canary.ts), sent from every injection
 * point the rig names, to a lab address and to an outside one, in several protocols, at a fixed
 * interval and at the start and end of every phase. The analysis requires each one in every
 * capture it must cross; a phase missing one is INCONCLUSIVE.
 *
 * One child per injection point (canary-child.ts), started by the injector's own argv: `ip netns
 * exec` on the virtual rig, plain node on Airlock's host, `ssh ... airlock canary-helper` on a
 * lab-side host. The per-run secret goes to it on stdin.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnInGroup } from '../../process-groups.js';
import readline from 'node:readline';
import type pino from 'pino';
import type { CanaryProtocol } from '../../analysis/canary.js';
import { LINGER_MS, type CanaryChildSettings, type SentCanaryLine } from './canary-child.js';
import { CanaryStartError } from './errors.js';
export { readSinkholeLog } from '../../analysis/sinkhole-log.js';
export type { SinkholeRecord } from '../../analysis/sinkhole-log.js';

/** The outside address canaries go to by default (TEST-NET-3, RFC 5737: routed nowhere). */
export const CANARY_OUTSIDE_TARGET = '203.0.113.99';

export type SentCanary = SentCanaryLine;

/** Where one canary child runs and what it sends from. */
export interface CanaryInjector {
  name: string;
  /** argv that starts a canary child speaking the stdin/stdout protocol of canary-child.ts. */
  argv: string[];
  source: string;
  /** IPv6 address to send from (with the sender's targets6: every round goes over IPv6 too). */
  source6?: string;
  interface?: string;
}

export interface CanarySenderOptions {
  runId: string;
  secret: string;
  injectors: CanaryInjector[];
  targets: { lab: string; outside: string };
  /** IPv6 targets, for the injection points with an IPv6 source. */
  targets6?: { lab: string; outside: string };
  protocols?: CanaryProtocol[];
  /** 0 = only on sendNow(). */
  intervalMs: number;
  /** How long a child may take to say it is ready (SSH needs longer). */
  startTimeoutMs?: number;
  /**
   * The ledger file (a run's `canaries.jsonl`, src/verdict/canary-ledger.ts): written as canaries
   * are sent and kept after stop(). Without it, a file in a temporary directory under
   * `ledgerDir` (default: the system's), removed at stop().
   */
  ledgerFile?: string;
  ledgerDir?: string;
  log?: pino.Logger;
}

interface Child {
  injector: CanaryInjector;
  proc: ChildProcess;
  rounds: number;
  waiters: Array<{ round: number; resolve: () => void }>;
  stderr: string;
  /** Why the child failed before start() listened (kept for it), then start()'s own rejection. */
  failed: string[];
  fail: (why: string) => void;
}

/**
 * The ledger of canaries sent: every one is needed by the analysis after the run (each must be in
 * every capture it crosses), none during it. At two dozen a second (three injection points, four
 * protocols, two targets, IPv4 and IPv6, every 2 s) an eight-hour run sends about 700,000, so
 * they are appended to a file as they come and read back once, at stop(), instead of being held
 * in memory for hours (docs/performance.md, "Soak"). A run's ledger is its run directory's
 * `canaries.jsonl`, kept as evidence (a killed run keeps it too). Only if the file cannot be
 * written (a full or read-only disk) are they held in memory, and a run's file then holds fewer
 * than the count result.json records: its analysis says so (src/verdict/canary-ledger.ts).
 */
export class CanaryLedger {
  private dir: string | undefined;
  private fd: number | undefined;
  private readonly held: SentCanary[] = [];
  count = 0;

  constructor(
    private readonly parent: string,
    private readonly file: string | undefined,
    private readonly log?: pino.Logger,
  ) {}

  private get path(): string {
    return this.file ?? path.join(this.dir!, 'sent.jsonl');
  }

  add(c: SentCanary): void {
    this.count++;
    if (this.fd === undefined && this.dir === undefined) this.open();
    if (this.fd !== undefined) {
      try {
        fs.writeSync(this.fd, JSON.stringify(c) + '\n');
        return;
      } catch (error) {
        this.log?.warn({ err: error }, 'canary ledger file not writable: the rest is kept in memory');
        try {
          fs.closeSync(this.fd);
        } catch {
          // The descriptor is dropped either way; what the file holds is read at drain().
        }
        this.fd = undefined;
      }
    }
    this.held.push(c);
  }

  private open(): void {
    try {
      this.dir = this.file ? path.dirname(this.file) : fs.mkdtempSync(path.join(this.parent, 'airlock-canaries-'));
      // A run directory's file is read like its others; a temporary one is the user's alone.
      this.fd = fs.openSync(this.path, 'a', this.file ? 0o644 : 0o600);
    } catch (error) {
      this.log?.warn({ err: error }, 'canary ledger file not created: canaries are kept in memory');
      this.dir ??= '';
    }
  }

  /** Canary records held in memory now (none while the file is written; test/capture/canary-ledger.test.ts). */
  get inMemory(): number {
    return this.held.length;
  }

  /** Closes the file; a canary reported from now on is held in memory. */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.dir ??= '';
  }

  /** Every canary recorded, read back from the file; a temporary file is removed. */
  drain(): SentCanary[] {
    const out: SentCanary[] = [];
    if (this.dir) {
      this.close();
      const file = this.path;
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as SentCanary);
      if (!this.file) fs.rmSync(this.dir, { recursive: true, force: true });
    }
    // No file from now on: a canary reported after the children ended is held in memory.
    this.dir = '';
    out.push(...this.held.splice(0));
    return out;
  }
}

export class CanarySender {
  private readonly opts: CanarySenderOptions;
  private readonly children: Child[] = [];
  private readonly ledger: CanaryLedger;
  private readonly listeners = new Set<(c: SentCanary) => void>();
  private stopped: SentCanary[] | undefined;
  readonly errors: string[] = [];

  constructor(opts: CanarySenderOptions) {
    this.opts = opts;
    this.ledger = new CanaryLedger(opts.ledgerDir ?? os.tmpdir(), opts.ledgerFile, opts.log);
  }

  /** Calls `listener` with each canary as it is sent (the live canary health); returns unsubscribe. */
  onSent(listener: (c: SentCanary) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the sender holds in memory (test/capture/canary-ledger.test.ts): canary records, not counting the ledger file. */
  retained(): { canaries: number } {
    return { canaries: this.ledger.inMemory };
  }

  private record(c: SentCanary): void {
    this.ledger.add(c);
    for (const l of this.listeners) l(c);
  }

  /**
   * Starts one process per injection point without sending anything yet: a child's start (Node,
   * `ip netns exec`, an SSH login) is the slow part, so the run does it while its captures start,
   * and start() sends the first round the moment they are capturing.
   */
  spawn(): void {
    if (this.children.length === 0) for (const inj of this.opts.injectors) this.spawnOne(inj);
  }

  /** Gives every child its settings; resolves when each has sent its first round. */
  async start(): Promise<void> {
    this.spawn();
    await Promise.all(this.children.map((c) => this.startOne(c)));
    this.opts.log?.info({ injectors: this.opts.injectors.map((i) => i.name) }, 'canary senders started');
  }

  private spawnOne(inj: CanaryInjector): void {
    const [cmd, ...args] = inj.argv;
    const proc = spawnInGroup(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const failed: string[] = [];
    const child: Child = { injector: inj, proc, rounds: 0, waiters: [], stderr: '', failed, fail: (why) => void failed.push(why) };
    this.children.push(child);
    proc.once('error', (e) => child.fail(e.message));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (child.stderr = (child.stderr + d).slice(-2000)));
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let m: Partial<SentCanary> & { ready?: boolean; round?: number; error?: string; fatal?: string };
      try {
        m = JSON.parse(line);
      } catch {
        return void this.opts.log?.warn({ injector: inj.name, reply: line.slice(0, 200) }, 'canary child printed a line that is not JSON');
      }
      if (m.fatal) {
        this.errors.push(`${inj.name}: ${m.fatal}`);
        return child.fail(m.fatal);
      }
      if (m.error) {
        this.errors.push(`${inj.name}: ${m.error}`);
        this.opts.log?.warn({ injector: inj.name, reply: m.error }, 'canary not sent');
      } else if (m.round !== undefined) {
        child.rounds++;
        for (const w of child.waiters.splice(0)) if (child.rounds >= w.round) w.resolve();
          else child.waiters.push(w);
      } else if (m.seq !== undefined) this.record({ ...(m as SentCanary), host: inj.name });
    });
    proc.once('exit', (code) => {
      for (const w of child.waiters.splice(0)) w.resolve();
      child.fail(`exited (${code}): ${child.stderr.trim()}`);
    });
    proc.stdin!.on('error', () => undefined);
  }

  private startOne(child: Child): Promise<void> {
    const inj = child.injector;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.opts.startTimeoutMs ?? 15000;
      const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
      const fail = (why: string) => {
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(new CanaryStartError(inj.name, why));
        }
      };
      // A failure before start() (the process could not be started, or exited) is this start's.
      if (child.failed.length > 0) return fail(child.failed[0]!);
      child.fail = fail;
      child.waiters.push({
        round: 1,
        resolve: () => {
          clearTimeout(timer);
          if (!settled && child.rounds >= 1) {
            settled = true;
            resolve();
          }
        },
      });
      const o = this.opts;
      const settings: CanaryChildSettings = {
        runId: o.runId,
        host: inj.name,
        secret: o.secret,
        source: inj.source,
        ...(inj.interface ? { interface: inj.interface } : {}),
        targets: o.targets,
        ...(inj.source6 && o.targets6 ? { source6: inj.source6, targets6: o.targets6 } : {}),
        ...(o.protocols ? { protocols: o.protocols } : {}),
        intervalMs: o.intervalMs,
      };
      child.proc.stdin!.write(JSON.stringify(settings) + '\n');
    });
  }

  /** Sends one round from every injection point now; resolves when each has reported it. */
  async sendNow(): Promise<SentCanary[]> {
    const round: SentCanary[] = [];
    const off = this.onSent((c) => round.push(c));
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            c.waiters.push({ round: c.rounds + 1, resolve });
            c.proc.stdin!.write('send\n');
          }),
      ),
    ).finally(off);
    return round;
  }

  /** How many canaries were sent so far (read every second by the progress counters). */
  get sentCount(): number {
    return this.ledger.count;
  }

  /**
   * Ends the children and closes the ledger file without reading it back; resolves with how many
   * canaries were sent (a run's analysis reads them from its `canaries.jsonl`).
   */
  async finish(): Promise<number> {
    await this.endChildren();
    this.ledger.close();
    return this.ledger.count;
  }

  /** Every canary sent, in send order (read back from the ledger file once the children have ended). */
  async stop(): Promise<SentCanary[]> {
    if (this.stopped) return this.stopped.slice();
    await this.endChildren();
    this.stopped = this.ledger.drain().sort((a, b) => a.sentAtMs - b.sentAtMs || a.seq - b.seq);
    return this.stopped.slice();
  }

  private async endChildren(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            c.proc.once('exit', () => resolve());
            c.proc.stdin!.end();
            setTimeout(() => c.proc.kill('SIGKILL'), LINGER_MS + 3000).unref();
          }),
      ),
    );
  }
}
