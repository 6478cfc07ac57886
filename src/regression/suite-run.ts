/**
 * Runs a suite: its scenarios in order on one rig, under the rig's lock. A failing scenario does
 * not stop the suite; a rig fault does (the orchestrator has safed the rig) and the rest are
 * reported as not run. One directory per suite holds each run directory, junit.xml over all,
 * summary.md and suite.json.
 *
 * The orchestrator, the config loaders and the JUnit writer are passed in (SuiteDeps) so the
 * suite logic is tested with fakes as well as on the virtual rig; src/cli/commands/suite.ts
 * binds the real ones.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult, FirmwareRecord } from '../evidence/result.js';
import type { Verdict } from '../analysis/finding.js';
import { worstVerdict } from '../analysis/finding.js';
import { AirlockError } from '../errors.js';
import { loadSigningKey, RunDirectory, SIGNATURE_FILE } from '../evidence/index.js';
import { withRigLock } from '../rig/rig-lock.js';
import { loadSuite, type SuiteConfig } from './suite-file.js';
import { RegressionInputError } from './errors.js';

export interface RunScenarioFn {
  (opts: {
    scenario: string;
    rig?: string;
    out: string;
    set?: Record<string, string>;
    firmware?: Record<string, string>;
    json?: boolean;
    io: SuiteIO;
    signal?: AbortSignal;
    /** Signing key (PEM) for the run, loaded once for the whole suite. */
    signingKeyPem?: string;
  }): Promise<{ runDir: string; result: RunResult; exitCode: number }>;
}

export interface SuiteDeps {
  runScenario: RunScenarioFn;
  junitForSuite: (entries: { name: string; result?: RunResult; skippedReason?: string }[]) => string;
  /** Rig name and whether it is the virtual rig (for the lock name and firmware hashing). */
  loadRig?: (file: string) => { name: string; virtual: boolean };
  /** Validates a scenario with its --set values before the suite starts (input errors exit 2 up front). */
  loadScenario?: (file: string, opts: { set: Record<string, string> }) => { name: string; rig?: string };
}

export interface SuiteOptions {
  suite: string;
  rig?: string;
  firmware?: Record<string, string>;
  out?: string;
  /** How long to wait for the rig's lock (ms). */
  wait?: number;
  json?: boolean;
  signal?: AbortSignal;
  /** Lock directory override (tests). */
  lockDir?: string;
  /** Private key file that signs every run (else env AIRLOCK_SIGNING_KEY, read once for all runs). */
  key?: string;
}

export interface SuiteFirmware extends FirmwareRecord {
  sha256: string;
}

export interface SuiteRunRecord {
  /** Scenario name (from the run's result, else the file's base name). */
  scenario: string;
  /** Scenario file as the suite names it (absolute). */
  file: string;
  set: Record<string, string>;
  status: 'run' | 'not-run' | 'error';
  /** Run directory, relative to the suite directory. */
  runDir?: string;
  verdict?: Verdict;
  exitCode?: number;
  fault?: RunResult['fault'];
  abort?: RunResult['abort'];
  firmware?: FirmwareRecord[];
  /** Distinct outside addresses in the run's network findings (for history). */
  outsideDestinations?: string[];
  findings?: number;
  /** Whether the run directory was signed. */
  signed?: boolean;
  reason?: string;
  durationMs?: number;
}

export interface SuiteRecord {
  suite: string;
  file: string;
  startedAt: string;
  endedAt: string;
  rig: { file: string; name: string; virtual: boolean };
  firmware: SuiteFirmware[];
  /** 4 rig fault, 1 a FAIL, 3 an INCONCLUSIVE (or not run), else 0. */
  exitCode: number;
  verdict: Verdict;
  runs: SuiteRunRecord[];
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * SHA-256 of the firmware under test: on a real rig the image file's bytes (the file must exist),
 * on the virtual rig the profile name or command string.
 */
export function firmwareSha(value: string, virtual: boolean): string {
  if (virtual) return sha256Hex(value);
  let data: Buffer;
  try {
    data = fs.readFileSync(value);
  } catch (e) {
    throw new RegressionInputError('AIRLOCK_SUITE_BAD_OPTION', `--firmware: cannot read the firmware image ${value}: ${(e as Error).message}`, { cause: e });
  }
  return sha256Hex(data);
}

function rigInfo(file: string, deps: SuiteDeps): { file: string; name: string; virtual: boolean } {
  if (deps.loadRig) {
    const r = deps.loadRig(file);
    return { file, name: r.name, virtual: r.virtual };
  }
  return { file, name: path.basename(file).replace(/\.ya?ml$/, ''), virtual: /virtual/.test(path.basename(file)) };
}

function outsideOf(result: RunResult): string[] {
  const set = new Set<string>();
  for (const f of result.findings ?? []) {
    if (f.kind === 'network' && (f.reason === undefined || f.reason === 'egress' || f.reason === 'attempt')) set.add(f.dst);
  }
  return [...set].sort();
}

/** Exit code of a suite from its runs (docs/technician/errors-and-exit-codes.md). */
export function suiteExitCode(runs: SuiteRunRecord[]): number {
  // As for a run: evidence of a leak comes first; the fault stays in suite.json, and the
  // suite still stopped at it.
  if (runs.some((r) => r.verdict === 'FAIL')) return 1;
  if (runs.some((r) => r.exitCode === 4 || r.fault)) return 4;
  if (runs.some((r) => r.verdict === 'INCONCLUSIVE' || r.status !== 'run')) return 3;
  return 0;
}

function summaryMarkdown(rec: SuiteRecord, suiteDir: string): string {
  const lines = [
    `# Suite ${rec.suite}: ${rec.verdict}${rec.exitCode === 4 ? ' (rig fault)' : ''}`,
    '',
    `- rig: ${rec.rig.name} (${rec.rig.virtual ? 'virtual' : 'real'}), ${rec.rig.file}`,
    `- started ${rec.startedAt}, ended ${rec.endedAt}`,
    `- exit code ${rec.exitCode}`,
    `- directory ${suiteDir}`,
    '',
    '## Firmware under test',
    '',
    '| device | firmware | SHA-256 |',
    '| --- | --- | --- |',
    ...rec.firmware.map((f) => `| ${f.device} | \`${f.value}\` | \`${f.sha256}\` |`),
    '',
    '## Scenarios',
    '',
    '| # | scenario | verdict | exit | signed | outside destinations | run directory / reason |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rec.runs.map(
      (r, i) =>
        `| ${i + 1} | ${r.scenario} | ${r.status === 'run' ? r.verdict : r.status === 'error' ? 'ERROR' : 'NOT RUN'} | ${r.exitCode ?? ''} | ${r.status === 'run' ? (r.signed ? 'yes' : 'no') : ''} | ${(r.outsideDestinations ?? []).join(', ')} | ${r.runDir ?? ''}${r.reason ? ` ${r.reason}` : ''}${r.fault ? ` rig fault: ${r.fault.message}` : ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Runs the suite; returns the suite directory and its record. Throws AirlockError on bad input or a busy rig. */
/** Where a suite writes: results to `out`, messages for a person to `err` (the CLI's io fits it). */
export interface SuiteIO {
  out(text: string): void;
  err(text: string): void;
  readonly tty: boolean;
}

export async function runSuite(opts: SuiteOptions, io: SuiteIO, deps: SuiteDeps): Promise<{ suiteDir: string; record: SuiteRecord }> {
  const suite: SuiteConfig = loadSuite(opts.suite);
  // The signing key is read once, before anything runs, and handed to every run: a run takes the
  // key out of the environment (no child may see it), so reading it per run would sign only the first.
  const signingKeyPem = loadSigningKey({ keyFile: opts.key, env: process.env });
  delete process.env.AIRLOCK_SIGNING_KEY;
  const set = (i: number): Record<string, string> => suite.scenarios[i]!.set;

  // Validate every scenario first: a typo in the third file must not cost a night on the first two.
  const names: string[] = [];
  const scenarioRigs = new Set<string>();
  suite.scenarios.forEach((s, i) => {
    if (deps.loadScenario) {
      const sc = deps.loadScenario(s.scenario, { set: set(i) });
      names.push(sc.name);
      if (sc.rig) scenarioRigs.add(path.resolve(path.dirname(s.scenario), sc.rig));
    } else {
      names.push(path.basename(s.scenario).replace(/\.ya?ml$/, ''));
    }
  });
  let rigFile = opts.rig ? path.resolve(opts.rig) : suite.rig;
  if (!rigFile) {
    if (scenarioRigs.size > 1) {
      throw new RegressionInputError(
        'AIRLOCK_SUITE_BAD_OPTION',
        `${suite.file}: the scenarios name different rigs (${[...scenarioRigs].join(', ')}); a suite runs on one rig: give rig: in the suite or --rig`,
      );
    }
    rigFile = scenarioRigs.size === 1 ? [...scenarioRigs][0]! : path.resolve('rig/virtual.yaml');
  }
  const rig = rigInfo(rigFile, deps);
  const fwValues = { ...suite.firmware, ...(opts.firmware ?? {}) };
  const firmware: SuiteFirmware[] = Object.entries(fwValues).map(([device, value]) => ({
    device,
    value,
    sha256: firmwareSha(value, rig.virtual),
  }));

  return withRigLock(rig.name, {
    waitMs: opts.wait ?? 0,
    ...(opts.lockDir ? { dir: opts.lockDir } : {}),
    command: `airlock suite ${suite.file}${Object.entries(fwValues).map(([d, v]) => ` --firmware ${d}=${v}`).join('')}`,
    onWait: (h) => io.err(`airlock suite: rig ${rig.name} is busy (${h ? `pid ${h.pid} on ${h.host} since ${h.since}` : 'holder unknown'}); waiting up to ${((opts.wait ?? 0) / 1000).toFixed(0)} s`),
    ...(opts.signal ? { signal: opts.signal } : {}),
  }, async () => {
    const startedAt = new Date();
    const dir = RunDirectory.create(opts.out ?? 'captures', `suite-${suite.name}`, startedAt);
    const suiteDir = dir.path;
    io.err(`airlock suite ${suite.name}: ${suite.scenarios.length} scenarios on rig ${rig.name}, in ${suiteDir}`);
    const runs: SuiteRunRecord[] = [];
    const junit: { name: string; result?: RunResult; skippedReason?: string }[] = [];
    let stopReason: string | undefined;
    for (let i = 0; i < suite.scenarios.length; i++) {
      const entry = suite.scenarios[i]!;
      const name = names[i]!;
      if (stopReason === undefined && opts.signal?.aborted) stopReason = 'not run: the suite was aborted';
      if (stopReason !== undefined) {
        runs.push({ scenario: name, file: entry.scenario, set: entry.set, status: 'not-run', reason: stopReason });
        junit.push({ name, skippedReason: stopReason });
        continue;
      }
      io.err(`airlock suite ${suite.name}: [${i + 1}/${suite.scenarios.length}] ${name}`);
      const t0 = Date.now();
      try {
        const r = await deps.runScenario({
          scenario: entry.scenario,
          rig: rig.file,
          out: suiteDir,
          set: entry.set,
          firmware: fwValues,
          json: opts.json ?? false,
          io,
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(signingKeyPem ? { signingKeyPem } : {}),
        });
        const result = r.result;
        const fw = (result.firmware ?? []).map((f) => ({ ...f, sha256: f.sha256 ?? firmware.find((x) => x.device === f.device && x.value === f.value)?.sha256 ?? (rig.virtual ? sha256Hex(f.value) : undefined) }));
        const rec: SuiteRunRecord = {
          scenario: result.scenario || name,
          file: entry.scenario,
          set: entry.set,
          status: 'run',
          runDir: path.relative(suiteDir, path.resolve(r.runDir)),
          verdict: result.verdict,
          exitCode: r.exitCode,
          ...(result.fault ? { fault: result.fault } : {}),
          ...(result.abort ? { abort: result.abort } : {}),
          firmware: fw,
          outsideDestinations: outsideOf(result),
          findings: (result.findings ?? []).length,
          signed: fs.existsSync(path.join(r.runDir, SIGNATURE_FILE)),
          durationMs: Date.now() - t0,
        };
        runs.push(rec);
        junit.push({ name: rec.scenario, result });
        io.err(`airlock suite ${suite.name}: [${i + 1}/${suite.scenarios.length}] ${rec.scenario}: ${result.verdict} (exit ${r.exitCode}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        if (r.exitCode === 4 || result.fault) {
          stopReason = `not run: rig fault in ${rec.scenario}${result.fault ? `: ${result.fault.message}` : ''} (the rig was made safe)`;
        } else if (result.abort && opts.signal?.aborted) {
          stopReason = 'not run: the suite was aborted';
        }
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const isRig = e instanceof AirlockError && e.category === 'rig';
        const rec: SuiteRunRecord = {
          scenario: name,
          file: entry.scenario,
          set: entry.set,
          status: 'error',
          verdict: 'INCONCLUSIVE',
          exitCode: isRig ? 4 : e instanceof AirlockError && e.category === 'input' ? 2 : 3,
          reason: msg,
          durationMs: Date.now() - t0,
          ...(isRig ? { fault: { code: (e as AirlockError).code, message: msg } } : {}),
        };
        runs.push(rec);
        junit.push({ name, skippedReason: `could not run: ${msg}` });
        io.err(`airlock suite ${suite.name}: [${i + 1}/${suite.scenarios.length}] ${name}: could not run: ${msg}`);
        if (isRig) stopReason = `not run: rig fault in ${name}: ${msg}`;
      }
    }
    // The firmware under test: what was given, plus what the runs recorded for the other devices.
    for (const r of runs) {
      for (const f of r.firmware ?? []) {
        if (firmware.some((x) => x.device === f.device)) continue;
        let sha = f.sha256;
        if (!sha && rig.virtual) sha = sha256Hex(f.value);
        if (!sha && fs.existsSync(f.value)) sha = firmwareSha(f.value, false);
        if (sha) firmware.push({ device: f.device, value: f.value, sha256: sha });
      }
    }
    const exitCode = suiteExitCode(runs);
    const record: SuiteRecord = {
      suite: suite.name,
      file: suite.file,
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      rig,
      firmware,
      exitCode,
      verdict: worstVerdict(runs.map((r) => r.verdict ?? 'INCONCLUSIVE')),
      runs,
    };
    dir.writeText('junit.xml', deps.junitForSuite(junit));
    dir.writeJson('suite.json', record);
    dir.writeText('summary.md', summaryMarkdown(record, suiteDir));
    return { suiteDir, record };
  });
}
