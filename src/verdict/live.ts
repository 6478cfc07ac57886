/**
 * Live egress analysis: the network captures judged while they are written, so a technician
 * watching an eight-hour quiet phase sees the first leak when it happens, not after the run.
 *
 * It is the verdict engine's own logic fed early, not a second analyzer: the same coverage
 * windows (coverage.ts, computed from the phase times the run machine has recorded so far), one
 * NetworkScanner per window fed exactly the packets RunJudge (engine.ts) feeds it (the window's
 * own, plus the canary look-back before it), and the same rule code (egressPolicyFindings,
 * networkAssertionFindings in rules.ts) over the scan so far. The post-run analysis stays the
 * authority (result.json); this one only tells early, and a test holds the two to the same
 * findings for every built-in firmware profile (test/e2e/live-agreement.test.ts).
 *
 * Why the packets land in the same windows as after the run: a packet is read only once the
 * clock has passed its time stamp, so every phase boundary before it is already recorded; packets
 * after the end of the last phase wait until the next phase starts or safing begins (until then
 * they could belong to a gap or to safing). A window that opens later is first shown, from the
 * file again, the look-back packets it needs (only offsets are kept, so memory does not grow with
 * the traffic).
 *
 * Runs in the run's own process, in slices: each tick reads at most `maxBytesPerTick` of each
 * capture and yields to the event loop, so serial links and timers keep their pace. The captures
 * themselves are written by their own child processes (src/devices/capture/capture-child.ts), so
 * a slow analysis can lag (reported as `behind`), never make a capture drop packets. A worker
 * thread would need the rig, the scenario and the findings copied across for no gain: the scan
 * keeps up with libpcap's rate many times over (docs/performance.md).
 *
 * Memory stays flat: a window that has ended is evaluated one last time and its scanner dropped,
 * so only the current window's flows are held (as many as the post-run analysis holds for it).
 */
import path from 'node:path';
import type { Assertion, RigConfig, ScenarioConfig } from '../config/types.js';
import { CANARY_LOOKBACK_MS, NetworkScanner, type CapturePacket, type EndpointCatalogue, type NetworkFinding, type SealKeep } from '../analysis/index.js';
import { PcapFollower, type FollowerStart } from '../analysis/pcap-follower.js';
import { coverageWindows, windowIndexAt, type CoverageWindow } from './coverage.js';
import { allowedDestination, egressPolicyFindings, namePolicy, networkAssertionFindings } from './rules.js';
import { partTailFromMs } from './engine.js';
import { CanaryTally, type CanaryHealth } from './canary-health.js';

/** What the run machine has recorded so far. */
export interface LiveTimes {
  /** Phase windows as recorded now (epoch ms); a phase not started yet has no startMs. */
  windows: Array<{ startMs?: number; endMs?: number }>;
  /** Safing has begun: no phase starts any more. */
  final: boolean;
  /** When the captures were stopped, once they were. */
  capturesEndMs?: number;
}

/** A finding as the live analysis reports it (the `finding` progress event, docs/technician/running.md). */
export interface LiveFinding {
  /** The window as the verdict engine names it: a phase, `preflight`, `between <a> and <b>`, `safing`. */
  window: string;
  phase: string | null;
  assertion: string;
  names: string[];
  capture: string;
  file: string;
  packet: number;
  at: string;
  finding: NetworkFinding;
}

export type LiveState = 'started' | 'behind' | 'stopped';

export interface LiveOptions {
  runDir: string;
  rig: RigConfig;
  scenario: ScenarioConfig;
  capturesStartMs: number;
  canarySecret?: string;
  catalogue?: EndpointCatalogue;
  times: () => LiveTimes;
  onFinding: (f: LiveFinding) => void;
  onState?: (state: LiveState, detail?: string) => void;
  /** Between ticks (default 250 ms). */
  intervalMs?: number;
  /** Bytes read from each capture per tick at most (default 4 MiB). */
  maxBytesPerTick?: number;
  /**
   * A finding is told once its packet is this old (default 1500 ms): every other capture has
   * flushed (each child flushes every 500 ms) what it saw at the same instant, so the finding the
   * post-run analysis picks among copies of one packet in several captures is already known.
   */
  graceMs?: number;
  /** Windows are evaluated at most this often while packets come (default 1000 ms). */
  evaluateEveryMs?: number;
  /** Lag of the analysis behind the captures that is reported as `behind` (default 10 s). */
  behindMs?: number;
  /** The canaries sent (the sender's ledger as it grows): with them, canaryHealth() counts those seen and missing. */
  canaries?: {
    capturesFor(host: string): readonly string[];
    onSent(listener: (c: { host: string; seq: number; sentAtMs: number }) => void): () => void;
    /** The injection points: with the rig's canary interval, one that stops sending is told (CanaryHealth.silent). */
    injectors?: readonly string[];
  };
  now?: () => number;
}

type NetworkAssertion = Extract<Assertion, { kind: 'no_egress' | 'no_dns' | 'traffic_only_to' }>;
const isNetworkAssertion = (a: Assertion): a is NetworkAssertion => a.kind === 'no_egress' || a.kind === 'no_dns' || a.kind === 'traffic_only_to';

interface FollowedFile {
  label: string;
  capture: string;
  order: number;
  follower: PcapFollower;
  /** Offsets of records by time (one per 200 ms of capture time, the last LOOKBACK + 10 s kept) for look-back replays. */
  checkpoints: Array<{ ms: number } & FollowerStart>;
  trimmed: boolean;
  hint: number;
  problemTold: boolean;
  /** The capture's previous part (a rotated capture): its last seconds are shown to this part for canaries. */
  prev?: FollowedFile;
  started: boolean;
  released?: boolean;
  /** Released and older than any window opened from now on reads: skipped by replays, checkpoints dropped. */
  past?: boolean;
}

interface LiveWindow {
  key: string;
  w: CoverageWindow;
  scanner: NetworkScanner | undefined;
  feeds: Map<string, (p: CapturePacket) => void>;
  emitted: Set<string>;
  version: number;
  pending: boolean;
  evaluatedAt: number;
  /** What a sealed part of this window's captures leaves (NetworkScanner.seal): what its phase's rules read. */
  keep: SealKeep;
}

const CHECKPOINT_MS = 200;
const KEEP_CHECKPOINTS_MS = CANARY_LOOKBACK_MS + 10_000;
/** Packets this far out of time order are still replayed to a new window. */
const DISORDER_MS = 2000;

export class LiveAnalyzer {
  private readonly files: FollowedFile[] = [];
  private readonly windows = new Map<string, LiveWindow>();
  private readonly lookback: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private behind = false;
  private findingsTold = 0;
  /** Packets read so far over every capture (for tests and the soak). */
  packets = 0;
  private readonly tally: CanaryTally | undefined;
  /** The live analysis failed (fail()): it checks nothing any more. */
  private failed = false;
  private unsubscribe: (() => void) | undefined;
  /** Per capture: the time up to which everything it wrote has been read (the canary health decides up to it). */
  private readonly readTo = new Map<string, number>();
  private readonly captureOfLabel = new Map<string, string>();

  constructor(private readonly opts: LiveOptions) {
    this.lookback = opts.canarySecret !== undefined ? CANARY_LOOKBACK_MS : 0;
    this.now = opts.now ?? Date.now;
    if (opts.canaries && opts.canarySecret !== undefined) {
      const c = opts.canaries;
      const intervalMs = opts.rig.canaries?.intervalMs;
      const sends = intervalMs !== undefined && c.injectors ? { intervalMs, injectors: c.injectors, fromMs: this.now() } : undefined;
      this.tally = new CanaryTally((host) => c.capturesFor(host), sends);
    }
  }

  /**
   * Canaries seen and missing so far in the captures they must cross (undefined without canaries,
   * and once the live analysis failed: its counts would stay as they were, healthy, while nothing
   * is checked any more).
   */
  canaryHealth(): CanaryHealth | undefined {
    return this.failed ? undefined : this.tally?.health();
  }

  /** Follows one capture file (`label`: run-directory relative, as findings name it). Parts of one capture in order. */
  addFile(label: string, capture: string): void {
    if (this.files.some((f) => f.label === label)) return;
    const first = this.files.find((f) => f.capture === capture);
    const parts = this.files.filter((f) => f.capture === capture).sort((a, b) => a.order - b.order);
    const order = first ? parts[parts.length - 1]!.order + 1e-6 : this.files.length;
    this.captureOfLabel.set(label, capture);
    this.files.push({ label, capture, order, follower: new PcapFollower(path.join(this.opts.runDir, label)), checkpoints: [], trimmed: false, hint: 0, problemTold: false, prev: parts[parts.length - 1], started: false });
    // The post-run engine reads captures in the run's order, each capture's parts in order.
    this.files.sort((a, b) => a.order - b.order);
  }

  /** Starts ticking. */
  start(): void {
    if (this.tally) this.unsubscribe = this.opts.canaries!.onSent((c) => this.tally!.sent(c));
    this.opts.onState?.('started');
    this.schedule(this.opts.intervalMs ?? 250);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let more = false;
      try {
        more = this.tick(false);
      } catch (error) {
        this.fail(error);
        return;
      }
      this.schedule(more ? 0 : (this.opts.intervalMs ?? 250));
    }, ms);
    this.timer.unref();
  }

  private fail(error: unknown): void {
    this.stopped = true;
    this.failed = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    for (const f of this.files) f.follower.close();
    this.opts.onState?.('stopped', `live analysis failed (the post-run analysis still judges the run): ${(error as Error).message}`);
  }

  /**
   * Reads what the captures wrote up to the end (they are stopped), tells the last findings and
   * stops. The post-run analysis runs after it.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    clearTimeout(this.timer);
    try {
      while (this.tick(true)) await new Promise((r) => setImmediate(r));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.stopped = true;
    this.unsubscribe?.();
    for (const f of this.files) f.follower.close();
    this.windows.clear();
    this.opts.onState?.('stopped', `${this.findingsTold} finding(s) told live; the post-run analysis decides the verdicts`);
  }

  /**
   * What the analysis holds, for tests and the soak (test/verdict/live-memory.test.ts): windows
   * with a scanner, the file scanners open in them and their flow records, what sealed parts left,
   * and the look-back checkpoints kept. Over hours of clean traffic in rotated captures it stays
   * bounded by the current parts (docs/performance.md).
   */
  retained(): { windows: number; openFiles: number; flowRecords: number; sealedFiles: number; sealedRecords: number; checkpoints: number; bufferBytes: number; canariesPending: number; canaryKeys: number } {
    const t = this.tally?.retained();
    const r = { windows: 0, openFiles: 0, flowRecords: 0, sealedFiles: 0, sealedRecords: 0, checkpoints: 0, bufferBytes: 0, canariesPending: t?.pending ?? 0, canaryKeys: t?.foundKeys ?? 0 };
    for (const lw of this.windows.values()) {
      if (!lw.scanner) continue;
      r.windows++;
      const s = lw.scanner.retained();
      r.openFiles += s.openFiles;
      r.flowRecords += s.flowRecords;
      r.sealedFiles += s.sealedFiles;
      r.sealedRecords += s.sealedRecords;
    }
    for (const f of this.files) {
      r.checkpoints += f.checkpoints.length;
      r.bufferBytes += f.follower.heldBytes();
    }
    return r;
  }

  private seal(lw: LiveWindow, label: string): void {
    if (!lw.scanner) return;
    lw.scanner.seal(label, lw.keep);
    lw.feeds.delete(label);
  }

  /** Windows whose scanners are held (the rest were evaluated for the last time and dropped). */
  heldWindows(): number {
    return [...this.windows.values()].filter((w) => w.scanner !== undefined).length;
  }

  /**
   * One slice of work: reads what the captures appended (at most maxBytesPerTick each), then
   * evaluates the windows that changed. `drain`: the captures are stopped, read to their ends.
   * Returns true when more is waiting.
   */
  tick(drain: boolean): boolean {
    if (this.stopped) return false;
    const now = this.now();
    const times = this.opts.times();
    const final = drain || times.final;
    const wins = coverageWindows({
      capturesStartMs: this.opts.capturesStartMs,
      windows: times.windows,
      capturesEndMs: times.capturesEndMs ?? Infinity,
      settleMs: this.opts.scenario.settleMs,
      phaseNames: this.opts.scenario.phases.map((p) => p.name),
    });
    const live: Array<LiveWindow | undefined> = wins.map((w, k) => {
      if (!Number.isFinite(w.fromMs) || (w.kind === 'safing' && !final)) return undefined;
      let lw = this.windows.get(`${w.kind}:${w.name}`);
      if (!lw) {
        lw = this.openWindow(w);
        this.replay(lw, wins, k);
        // The replay read released parts again: what they gave is sealed at once.
        for (const f of this.files) if (f.released) this.seal(lw, f.label);
      }
      lw.w = w;
      return lw;
    });
    // Packets after the last phase's window wait while a phase may still start (a gap) or safing begin.
    const safing = wins[wins.length - 1]!;
    const untilMs = drain ? Infinity : Math.min(now, final ? Infinity : safing.fromMs);
    // Windows not open yet start after this: the end of the last phase recorded (a gap, the next
    // phase and safing start there), or, while a phase runs, its end, still to be recorded.
    const horizon = Math.min(safing.fromMs, now - 10_000);
    const maxBytes = this.opts.maxBytesPerTick ?? 4 << 20;
    let more = false;
    let lag = 0;
    const whole = new Set<FollowedFile>();
    /** Captures with something written and not read yet (a part waiting, data or packets held). */
    const unread = new Set<string>();
    for (const f of this.files) {
      if (f.released) {
        whole.add(f);
        // A released part whose last packet is older than any window opened from now on reads
        // (its look-back, as the checkpoints keep, and the disorder allowed) is not read again.
        if (!f.past && (f.follower.lastMs ?? -Infinity) < horizon - KEEP_CHECKPOINTS_MS - DISORDER_MS) {
          f.past = true;
          f.checkpoints = [];
        }
        continue;
      }
      if (f.prev && !f.started) {
        // A later part starts once the one before it was read to its end (it was closed before this one opened).
        if (!whole.has(f.prev)) {
          unread.add(f.capture);
          continue;
        }
        this.partTail(f, (p) => {
          const i = windowIndexAt(wins, p.timeMs, 0);
          return [i, ...wins.flatMap((w, k) => (k > i && p.timeMs >= w.fromMs - this.lookback ? [k] : []))];
        }, live);
      }
      f.started = true;
      const feed = this.router(f, wins, live);
      const r = f.follower.poll(feed, maxBytes, untilMs);
      if (!r.more && !r.held) whole.add(f);
      else unread.add(f.capture);
      // A part read to its end whose next part has begun is closed: its descriptor and buffer go,
      // so a capture rotated for hours holds one open file, not one per part.
      // Every window's scanner of that part is sealed (its findings kept, its tables dropped).
      if (f.prev && whole.has(f.prev) && !f.prev.released) {
        f.prev.follower.release();
        f.prev.released = true;
        for (const lw of this.windows.values()) this.seal(lw, f.prev.label);
      }

      this.packets += r.packets;
      if (r.more) {
        more = true;
        if (f.follower.lastMs !== undefined) lag = Math.max(lag, now - f.follower.lastMs);
      }
      if (f.follower.problem && !f.problemTold) {
        f.problemTold = true;
        this.opts.onState?.('behind', `${f.label} is not followed live: ${f.follower.problem}`);
      }
    }
    this.health(lag);
    if (this.tally) {
      for (const f of this.files) if (!unread.has(f.capture) && !f.follower.problem) this.readTo.set(f.capture, now);
      this.tally.settle((capture) => this.readTo.get(capture));
    }
    const grace = drain ? 0 : (this.opts.graceMs ?? 1500);
    for (const lw of live) {
      if (!lw?.scanner) continue;
      const ended = drain || lw.w.toMs + this.lookback + DISORDER_MS + grace < now;
      this.evaluate(lw, now, grace, drain || ended);
      // An ended window's findings are all told: its scanner goes, so memory holds the current window only.
      if (ended && !drain && !more) lw.scanner = undefined;
    }
    return more;
  }

  private health(lag: number): void {
    const limit = this.opts.behindMs ?? 10_000;
    if (!this.behind && lag > limit) {
      this.behind = true;
      this.opts.onState?.('behind', `the live analysis is ${Math.round(lag / 1000)} s behind the captures`);
    } else if (this.behind && lag < limit / 5) {
      this.behind = false;
      this.opts.onState?.('started', 'caught up with the captures');
    }
  }

  private openWindow(w: CoverageWindow): LiveWindow {
    const o = this.opts;
    const tally = this.tally;
    const onCanary = tally ? (c: { file: string; host: string; seq: number; sentAtMs: number }) => tally.seen(this.captureOfLabel.get(c.file) ?? c.file, c.host, c.seq, c.sentAtMs) : undefined;
    const scanner = new NetworkScanner({ lab: o.rig.lab.subnets, labNames: o.rig.lab.names, canarySecret: o.canarySecret, catalogue: o.catalogue, fromMs: w.fromMs, onCanary });
    const assertions = w.kind === 'phase' ? o.scenario.phases[w.phase!]!.assertions : [];
    // What the phase's rules can still find in a sealed part: queries for names a no_dns does not
    // allow, flows to hosts a traffic_only_to does not list, and the devices' addresses and MACs.
    const names = assertions.flatMap((a) => (a.kind === 'no_dns' ? [namePolicy(a.allowNames, o.rig)] : []));
    const hosts = assertions.flatMap((a) => (a.kind === 'traffic_only_to' ? [allowedDestination(a, o.rig)] : []));
    const keep: SealKeep = {
      dns: names.length > 0 ? (q) => names.some((n) => !n.nameAllowed(q.name)) : undefined,
      flows: hosts.length > 0 ? (f) => hosts.some((ok) => !ok(f.dst)) : undefined,
      identities: assertions.some((a) => a.kind === 'no_egress' && (a.devices?.length ?? 0) > 0),
    };
    const lw: LiveWindow = { key: `${w.kind}:${w.name}`, w, scanner, feeds: new Map(), emitted: new Set(), version: -1, pending: false, evaluatedAt: -Infinity, keep };
    this.windows.set(lw.key, lw);
    return lw;
  }

  private feedOf(lw: LiveWindow, label: string): ((p: CapturePacket) => void) | undefined {
    if (!lw.scanner) return undefined;
    let f = lw.feeds.get(label);
    if (!f) lw.feeds.set(label, (f = lw.scanner.file(label)));
    return f;
  }

  /** The packet callback of one file for this tick: as RunJudge.file routes, plus checkpoints. */
  private router(f: FollowedFile, wins: CoverageWindow[], live: Array<LiveWindow | undefined>): (p: CapturePacket) => void {
    const feeds = live.map((lw) => (lw ? this.feedOf(lw, f.label) : undefined));
    const lookback = this.lookback;
    return (p) => {
      const i = windowIndexAt(wins, p.timeMs, f.hint);
      f.hint = i;
      feeds[i]?.(p);
      for (let k = i + 1; k < wins.length && p.timeMs >= wins[k]!.fromMs - lookback; k++) feeds[k]?.(p);
      const cps = f.checkpoints;
      const last = cps[cps.length - 1];
      if (!last || p.timeMs - last.ms >= CHECKPOINT_MS) {
        cps.push({ ms: p.timeMs, offset: p.fileOffset, index: p.index - 1 });
        // Keep one checkpoint older than the kept span, so a replay can always start before it.
        while (cps.length > 2 && cps[1]!.ms < p.timeMs - KEEP_CHECKPOINTS_MS) {
          cps.shift();
          f.trimmed = true;
        }
      }
    };
  }

  /**
   * A window opened after packets were read: the packets of the earlier windows in its canary
   * look-back are read again from the files (RunJudge shows them to it too).
   */
  private replay(lw: LiveWindow, wins: CoverageWindow[], k: number): void {
    if (this.lookback === 0) return;
    const from = lw.w.fromMs - this.lookback;
    for (const f of this.files) {
      // Its packets (and its previous part's) are all before the look-back: nothing to show.
      if (f.past) continue;
      // A later part of a rotated capture: the previous part's last seconds first, as judgeRun shows them.
      if (f.prev && f.started) {
        const only = wins.map((_, j) => (j === k ? lw : undefined));
        this.partTail(f, (p) => (windowIndexAt(wins, p.timeMs, 0) < k && p.timeMs >= from ? [k] : []), only);
      }
      const end = f.follower.position.offset;
      if (end <= 24) continue;
      let start: FollowerStart = { offset: 24, index: 0 };
      for (const cp of f.checkpoints) {
        if (cp.ms <= from - DISORDER_MS) start = cp;
        else break;
      }
      if (start.offset === 24 && f.trimmed) start = f.checkpoints[0]!;
      const feed = this.feedOf(lw, f.label)!;
      const again = new PcapFollower(f.follower.file, start, 256 << 10);
      let hint = 0;
      try {
        again.poll(
          (p) => {
            if (p.timeMs < from) return;
            hint = windowIndexAt(wins, p.timeMs, hint);
            if (hint < k) feed(p);
          },
          Infinity,
          Infinity,
          end,
        );
      } finally {
        again.close();
      }
    }
  }

  /**
   * The last seconds of the previous part of `f`'s capture, shown to `f`'s scanners for canaries
   * only (as judgeRun shows them, engine.ts): `windowsOf` says which windows' scanners see a packet.
   */
  private partTail(f: FollowedFile, windowsOf: (p: CapturePacket) => number[], live: Array<LiveWindow | undefined>): void {
    const prev = f.prev!;
    if (this.lookback === 0 || prev.follower.lastMs === undefined) return;
    const from = partTailFromMs(prev.follower.lastMs);
    let start: FollowerStart = { offset: 24, index: 0 };
    for (const cp of prev.checkpoints) {
      if (cp.ms <= from - DISORDER_MS) start = cp;
      else break;
    }
    if (start.offset === 24 && prev.trimmed) start = prev.checkpoints[0]!;
    const feeds = live.map((lw) => (lw?.scanner ? lw.scanner.fileLookback(f.label) : undefined));
    const again = new PcapFollower(prev.follower.file, start, 256 << 10);
    try {
      again.poll(
        (p) => {
          if (p.timeMs < from) return;
          for (const k of windowsOf(p)) feeds[k]?.(p);
        },
        Infinity,
        Infinity,
        prev.follower.position.offset,
      );
    } finally {
      again.close();
    }
  }

  /** Tells the window's new findings (those whose packet is older than `grace`; all of them when `all`). */
  private evaluate(lw: LiveWindow, now: number, grace: number, all: boolean): void {
    const scanner = lw.scanner!;
    const v = scanner.version();
    if (v === lw.version && !lw.pending) return;
    if (!all && now - lw.evaluatedAt < (this.opts.evaluateEveryMs ?? 1000)) return;
    lw.version = v;
    lw.evaluatedAt = now;
    lw.pending = false;
    const { rig, scenario } = this.opts;
    const scan = scanner.peek(this.files.map((f) => f.label));
    const phase = lw.w.kind === 'phase' ? scenario.phases[lw.w.phase!]! : undefined;
    const judged: Array<[string, number, NetworkFinding[]]> = [['egress_policy', 0, egressPolicyFindings(scan.findings, rig, phase?.allow)]];
    phase?.assertions.forEach((a, i) => {
      if (isNetworkAssertion(a)) judged.push([a.kind, i + 1, networkAssertionFindings(a, scan, rig)]);
    });
    for (const [kind, i, findings] of judged) {
      for (const f of findings) {
        const key = `${i}|${f.file}|${f.packet}`;
        if (lw.emitted.has(key)) continue;
        if (!all && Date.parse(f.time) > now - grace) {
          lw.pending = true;
          continue;
        }
        lw.emitted.add(key);
        this.findingsTold++;
        const file = this.files.find((x) => x.label === f.file);
        this.opts.onFinding({
          window: lw.w.name,
          phase: phase ? phase.name : null,
          assertion: kind,
          names: f.names ? f.names.map((n) => n.name) : f.name ? [f.name] : [],
          capture: file?.capture ?? f.file,
          file: f.file,
          packet: f.packet,
          at: f.time,
          finding: f,
        });
      }
    }
  }
}
