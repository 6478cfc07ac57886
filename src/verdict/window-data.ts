/** The data of one judged window: its network scan (made once by the engine, shared by the window's rules) and the sinkhole's records. */
import path from 'node:path';
import type { NetworkScan } from '../analysis/index.js';
import type { JudgeInput } from './input.js';
import { gatewayCanaryProblems, gatewayLogProblems, readSinkholeFile, sentCanaryMatcher, sinkholeRecordsOf, type SinkholeRecord } from './sinkhole-witness.js';
import type { SentCanary } from '../analysis/canary.js';
import type { SinkholeLog } from '../analysis/sinkhole-log.js';
import { canaryList, type CanaryList } from './canary-list.js';

export interface Window {
  fromMs: number;
  toMs: number;
  /** The coverage window's kind (src/verdict/coverage.ts) when it is one. */
  kind?: string;
}

const matchers = new WeakMap<CanaryList | readonly SentCanary[], ReturnType<typeof sentCanaryMatcher>>();

/** Whether some canary of the list records its source address and port. */
function carriesAddresses(list: CanaryList): boolean {
  for (let i = 0; i < list.length; i++) if (list.src(i) !== undefined && list.srcPort(i) !== undefined) return true;
  return false;
}

/** The run's canary matcher (made once per run: every window shares its sent canaries), or undefined for runs whose canaries carry no addresses. */
function canaryMatcherOf(input: JudgeInput): ReturnType<typeof sentCanaryMatcher> | undefined {
  const sent = input.canaries?.sent;
  if (!sent || !carriesAddresses(canaryList(sent))) return undefined;
  let m = matchers.get(sent);
  if (!m) matchers.set(sent, (m = sentCanaryMatcher(sent)));
  return m;
}

export class WindowData {
  private sinkhole?: SinkholeRecord[];
  private sinkholeLog?: SinkholeLog;
  private gatewayProblems?: string[];

  /**
   * @param neighbours the scans of the windows next to this one that lie within
   *   SINKHOLE_LAG_MS of it (src/verdict/engine.ts): the sinkhole logs a connection after the
   *   captures saw it, so across a window boundary the two can fall into different windows.
   */
  constructor(
    readonly input: JudgeInput,
    readonly window: Window,
    private readonly scan: NetworkScan,
    readonly neighbours: NetworkScan[] = [],
  ) {}

  network(): Promise<NetworkScan> {
    return Promise.resolve(this.scan);
  }

  private log(): SinkholeLog {
    this.sinkholeLog ??= readSinkholeFile(this.input.runDir);
    return this.sinkholeLog;
  }

  sinkholeRecords(): SinkholeRecord[] {
    this.sinkhole ??= sinkholeRecordsOf(this.log(), canaryMatcherOf(this.input)).filter((r) => r.timeMs >= this.window.fromMs && r.timeMs < this.window.toMs);
    return this.sinkhole;
  }

  /** Lines of the run directory's sinkhole.jsonl that are not sinkhole records (the sinkhole writes none). */
  sinkholeLogDamage(): string[] {
    const log = this.log();
    if (log.rejectedCount === 0) return [];
    const first = log.rejected[0]!;
    return [`sinkhole.jsonl holds ${log.rejectedCount} line(s) that are not sinkhole records (first: line ${first.line}, ${first.why}): its records cannot be trusted as a witness`];
  }

  /**
   * The sinkhole stopped recording at its record limit (a `truncated` line, src/devices/sinkhole/server.ts)
   * before this window ended: from there on it witnessed nothing.
   */
  sinkholeTruncation(): string[] {
    const cut = this.log().records.find((r) => r.truncated);
    if (!cut || cut.t >= this.window.toMs) return [];
    return [`the sinkhole stopped recording at ${new Date(cut.t).toISOString()} (its limit of records was reached): it cannot witness this window`];
  }

  /** On a bench with lab.sinkhole_log: why the gateway's log cannot witness this window (empty when it can). */
  gatewaySinkholeProblems(): string[] {
    // Asked by each of the window's network assertions: the log and the canaries are checked once.
    this.gatewayProblems ??= this.gatewaySinkholeProblemsOnce();
    return this.gatewayProblems;
  }

  private gatewaySinkholeProblemsOnce(): string[] {
    if (!this.input.rig.lab.sinkholeLog) return [];
    const { fromMs, toMs } = this.window;
    const lab = this.input.rig.lab;
    const problems = gatewayLogProblems(this.input.runDir, this.log(), fromMs, toMs);
    if (problems.some((p) => p.startsWith("the gateway sinkhole's log could not be read"))) return problems;
    return [...problems, ...gatewayCanaryProblems(this.log(), this.input.canaries, [lab.sinkhole, lab.sinkhole6], fromMs, toMs)];
  }
}
