/**
 * test-result.sig.json: the run's verdicts as a standard in-toto attestation, so generic in-toto
 * tooling and policy engines read them without knowing Airlock's formats. An in-toto Statement v1
 * with the published test-result predicate (https://in-toto.io/attestation/test-result/v0.1,
 * spec/predicates/test-result.md of github.com/in-toto/attestation), in the same DSSE envelope and
 * signed by the same key as manifest.sig.json.
 *
 * The predicate's `result` takes PASSED, WARNED or FAILED. Only PASS is PASSED; FAIL, INCONCLUSIVE
 * and a phase that did not run are FAILED. WARNED is never used: policy engines read it as a pass,
 * and an undecided run must never pass (docs/certifier/signature-formats.md). The exact verdicts
 * travel in the extension field `airlockRun`, which the in-toto parsing rules let consumers ignore
 * without changing the meaning of `result`.
 */
import type { Manifest } from './manifest.js';
import { MANIFEST_FILE } from './manifest.js';
import { STATEMENT_TYPE, type InTotoStatement } from './dsse.js';

export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

export type TestResult = 'PASSED' | 'WARNED' | 'FAILED';

/** PASS is PASSED; anything else (FAIL, INCONCLUSIVE, NOT_RUN, or a verdict this build does not know) is FAILED. */
export function testResultOf(verdict: string | undefined): TestResult {
  return verdict === 'PASS' ? 'PASSED' : 'FAILED';
}

/** A resource descriptor (in-toto spec/v1/resource_descriptor.md): a file of the run directory. */
interface ResourceDescriptor {
  name: string;
  digest: { sha256: string };
  annotations?: Record<string, string>;
}

export interface AirlockRunExtension {
  runId: string;
  scenario: string;
  rig: string;
  startedAt?: string;
  endedAt?: string;
  /** The run's own verdict, exactly (PASS, FAIL, INCONCLUSIVE). */
  verdict: string;
  exitCode?: number;
  complete?: boolean;
  analyzerVersion?: string;
  /** Every phase and assertion with its exact verdict and the test name used in the lists. */
  phases: { name: string; test: string; verdict: string; assertions: { kind: string; test: string; verdict: string }[] }[];
  /** How `result` and the test lists were derived from the verdicts. */
  resultRule: string;
}

export const RESULT_RULE = 'PASS is PASSED; FAIL, INCONCLUSIVE and NOT_RUN are FAILED; WARNED is never used';

/**
 * The statement for a sealed run, from its manifest (the verdicts it records) and the manifest's
 * own SHA-256. Subjects: each firmware image with a known hash (the artifacts under test), then
 * result.json and manifest.json (the evidence the verdicts stand on). Configuration: the exact
 * scenario and rig files that ran.
 */
export function buildTestResultStatement(m: Manifest, manifestSha256: string): InTotoStatement {
  const file = (name: string) => m.files.find((f) => f.name === name);
  const subject: InTotoStatement['subject'] = [];
  for (const fw of m.firmware) if (fw.sha256 && /^[0-9a-f]{64}$/.test(fw.sha256)) subject.push({ name: `firmware/${fw.device}`, digest: { sha256: fw.sha256 } });
  const result = file('result.json');
  if (result) subject.push({ name: 'result.json', digest: { sha256: result.sha256 } });
  subject.push({ name: MANIFEST_FILE, digest: { sha256: manifestSha256 } });

  const configuration: ResourceDescriptor[] = [];
  for (const [name, role] of [['scenario.yaml', 'scenario'], ['rig.yaml', 'rig']] as const) {
    const f = file(name);
    if (f) configuration.push({ name, digest: { sha256: f.sha256 }, annotations: { role } });
  }

  const passed: string[] = [];
  const failed: string[] = [];
  const used = new Set<string>();
  const unique = (t: string): string => {
    let name = t;
    for (let n = 2; used.has(name); n++) name = `${t} #${n}`;
    used.add(name);
    return name;
  };
  const record = (test: string, verdict: string): void => void (testResultOf(verdict) === 'PASSED' ? passed : failed).push(test);
  const phases: AirlockRunExtension['phases'] = m.phases.map((p) => {
    const test = unique(`phase ${p.name}`);
    record(test, p.verdict);
    const assertions = p.assertions.map((a) => {
      const t = unique(`phase ${p.name} / ${a.kind}`);
      record(t, a.verdict);
      return { kind: a.kind, test: t, verdict: a.verdict };
    });
    return { name: p.name, test, verdict: p.verdict, assertions };
  });
  const verdict = m.verdict ?? 'INCONCLUSIVE';
  const extension: AirlockRunExtension = {
    runId: m.runId,
    scenario: m.scenario,
    rig: m.rig,
    startedAt: m.startedAt,
    endedAt: m.endedAt,
    verdict,
    exitCode: m.exitCode,
    complete: m.complete,
    analyzerVersion: m.versions.analyzer,
    phases,
    resultRule: RESULT_RULE,
  };
  // A run without a phase judged PASS cannot be PASSED, whatever its recorded verdict says.
  const result_: TestResult = testResultOf(verdict) === 'PASSED' && failed.length === 0 && passed.length > 0 ? 'PASSED' : 'FAILED';
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: TEST_RESULT_PREDICATE_TYPE,
    predicate: {
      result: result_,
      configuration,
      passedTests: passed,
      warnedTests: [],
      failedTests: failed,
      airlockRun: extension,
    },
  };
}
