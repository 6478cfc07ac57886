/**
 * Offline verification of a run directory or bundle: every hash, the DSSE signature, and the
 * verdicts re-derived from the raw captures. Tampering (hashes, signature) and a re-analysis that
 * disagrees under the same analyzer version make a run NOT VERIFIED; a newer analyzer that
 * disagrees is reported, not counted as tampering (docs/certifier/evidence.md).
 */
import type { KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGzipFile, unpackBundle } from './bundle.js';
import { DSSE_PAYLOAD_TYPE, envelopePayload, STATEMENT_TYPE, verifyEnvelope, type InTotoStatement } from './dsse.js';
import { BundleInputError } from './errors.js';
import { fingerprintOf, publicKeyFromPem, type TrustedKey } from './keys.js';
import { hashFile, MANIFEST_FILE, SIGNATURE_FILE, TEST_RESULT_FILE, walkRunDir, type Manifest } from './manifest.js';
import type { RunResult } from './result.js';
import { PREDICATE_TYPE } from './signing.js';
import { TEST_RESULT_PREDICATE_TYPE, testResultOf } from './test-result.js';

export interface ReanalysisResult {
  verdict: string;
  phases: { name: string; verdict: string; assertions: { kind: string; verdict: string }[] }[];
  analyzerVersion: string;
}
export type Reanalyze = (runDir: string) => Promise<ReanalysisResult>;

export interface VerifyOptions {
  /**
   * The public keys the verifier trusts (--key, --keyring, AIRLOCK_KEYRING). A run signed by one of
   * them can be VERIFIED; a valid signature by any other key is integrity only, never VERIFIED.
   */
  trustedKeys?: TrustedKey[];
  /** An unsigned run is a failure (exit 1) rather than integrity only: set when keys were given explicitly. */
  requireSignature?: boolean;
  /** Re-derives the verdicts from the raw captures (the verdict engine's reanalyzeRun). */
  reanalyze?: Reanalyze;
  /** Why reanalyze is absent, for the report. */
  reanalyzeUnavailableReason?: string;
}

export interface VerifyReport {
  input: string;
  /** True when the input was a bundle (unpacked into a temporary directory, removed afterwards). */
  bundle: boolean;
  runDir: string;
  /**
   * verified: hashes, signature by a trusted key and re-analysis all hold. integrity-only: nothing
   * was found altered, but no trusted key signed it (unsigned, or signed by a key not trusted).
   * not-verified: something is altered, missing, badly signed, or re-analysis disagrees.
   */
  outcome: 'verified' | 'integrity-only' | 'not-verified';
  /** outcome === 'verified'. */
  verified: boolean;
  manifest: { present: boolean; error?: string; runId?: string; scenario?: string; verdict?: string };
  files: { checked: number; altered: string[]; missing: string[]; extra: string[] };
  signature: {
    /** valid: by a trusted key; untrusted: valid under the key the run carries, which nobody vouched for. */
    status: 'valid' | 'untrusted' | 'invalid' | 'missing' | 'unsigned';
    /** Which key checked it: a trusted one, or the one embedded in the run. */
    keySource?: 'trusted' | 'embedded';
    /** The file the trusted key came from. */
    trustedBy?: string;
    fingerprint?: string;
    /** Fingerprints of the keys the verifier trusted. */
    trustedKeys: string[];
    message: string;
  };
  testResult: { status: 'valid' | 'invalid' | 'missing' | 'absent'; result?: string; message: string };
  reanalysis: {
    status: 'agrees' | 'differs' | 'differs-other-version' | 'unavailable' | 'error';
    recordedVersion?: string;
    analyzerVersion?: string;
    differences: string[];
    message: string;
  };
  /** Every reason the run is not verified, one line each. */
  problems: string[];
}

function tryReadJson(file: string): { value?: unknown; error?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
}

function checkFiles(dir: string, manifest: Manifest | undefined, report: VerifyReport): Map<string, string> {
  const actual = new Map<string, string>(); // name -> sha256
  const listed = new Map((manifest?.files ?? []).map((f) => [f.name, f]));
  for (const e of walkRunDir(dir)) {
    if (e.type === 'dir' || e.name === MANIFEST_FILE || e.name === SIGNATURE_FILE || e.name === TEST_RESULT_FILE) continue;
    if (e.type === 'other') {
      report.files.extra.push(`${e.name} (not a regular file)`);
      continue;
    }
    const h = hashFile(path.join(dir, e.name));
    actual.set(e.name, h.sha256);
    const m = listed.get(e.name);
    if (!manifest) continue;
    report.files.checked++;
    if (!m) report.files.extra.push(e.name);
    else if (m.sha256 !== h.sha256 || m.size !== h.size) report.files.altered.push(e.name);
  }
  for (const name of listed.keys()) if (!actual.has(name)) report.files.missing.push(name);
  return actual;
}

/** The public key a signed statement carries (predicate.signature), unverified. */
function statementPublicKey(payload: Buffer): { pem: string; fingerprint: string } | undefined {
  try {
    const st = JSON.parse(payload.toString('utf8')) as { predicate?: { signature?: { publicKey?: unknown; publicKeyFingerprint?: unknown } } };
    const s = st.predicate?.signature;
    if (typeof s?.publicKey === 'string' && typeof s.publicKeyFingerprint === 'string') return { pem: s.publicKey, fingerprint: s.publicKeyFingerprint };
  } catch {
    /* not JSON: reported below */
  }
  return undefined;
}

function checkSignature(dir: string, manifest: Manifest | undefined, actual: Map<string, string>, opts: VerifyOptions, report: VerifyReport): KeyObject | undefined {
  const trusted = opts.trustedKeys ?? [];
  const sigPath = path.join(dir, SIGNATURE_FILE);
  const sig = fs.existsSync(sigPath) ? tryReadJson(sigPath) : undefined;
  const sign = report.signature;
  if (!sig) {
    if (manifest?.signed) {
      sign.status = 'missing';
      sign.message = `${SIGNATURE_FILE} is missing but the manifest says the run was signed (key ${manifest.publicKeyFingerprint})`;
    } else if (opts.requireSignature) {
      sign.status = 'missing';
      sign.message = `UNSIGNED: the run carries no signature, but a key was given to check it with`;
    } else {
      sign.status = 'unsigned';
      sign.message = 'UNSIGNED: the run carries no signature; the hashes show only that files match the manifest, not who wrote it';
    }
    return undefined;
  }
  sign.status = 'invalid';
  if (sig.error) {
    sign.message = `${SIGNATURE_FILE} is unreadable: ${sig.error}`;
    return undefined;
  }
  const env = envelopePayload(sig.value);
  if ('error' in env) {
    sign.message = `${SIGNATURE_FILE}: ${env.error}`;
    return undefined;
  }
  if (env.envelope.payloadType !== DSSE_PAYLOAD_TYPE) {
    sign.message = `payloadType is ${env.envelope.payloadType}, not ${DSSE_PAYLOAD_TYPE}`;
    return undefined;
  }
  // First a key the verifier trusts. Only when none verifies, the key the run carries (the one the
  // manifest records, else the one the signed statement names): a good signature by it proves the
  // files are what its holder signed, not who that holder is, so it is integrity only.
  let key: KeyObject | undefined;
  let fp: string | undefined;
  for (const t of trusted) {
    const k = publicKeyFromPem(t.pem);
    if (verifyEnvelope(env.envelope, env.payload, k)) {
      [key, fp] = [k, t.fingerprint];
      sign.keySource = 'trusted';
      sign.trustedBy = t.source;
      break;
    }
  }
  if (!key) {
    const statementKey = statementPublicKey(env.payload);
    const embeddedFingerprint = manifest?.signed ? manifest.publicKeyFingerprint : statementKey?.fingerprint;
    const keyPem = manifest?.signed ? manifest.publicKey : statementKey?.pem;
    sign.keySource = 'embedded';
    const tried = trusted.length ? `none of the ${trusted.length} trusted key${trusted.length === 1 ? '' : 's'} (${trusted.map((t) => t.fingerprint).join(', ')})` : '';
    const named = env.envelope.signatures.map((x) => x?.keyid).filter((k): k is string => typeof k === 'string');
    if (!keyPem) {
      sign.message = `the signature verifies under ${tried || 'no given key (--key, --keyring)'}, and the run embeds no public key${named.length ? ` (it names key ${named.join(', ')})` : ''}`;
      return undefined;
    }
    try {
      key = publicKeyFromPem(keyPem);
      fp = fingerprintOf(key);
    } catch (e) {
      sign.message = `the embedded public key does not load: ${(e as Error).message}`;
      return undefined;
    }
    sign.fingerprint = fp;
    if (embeddedFingerprint !== fp) {
      sign.message = `the embedded public key's fingerprint ${fp} is not the recorded ${embeddedFingerprint}`;
      return undefined;
    }
    if (!verifyEnvelope(env.envelope, env.payload, key)) {
      sign.message = `the signature verifies under ${tried ? `${tried} nor ` : ''}the embedded key ${fp}${named.some((k) => k !== fp) ? ` (it names key ${named.join(', ')})` : ''}`;
      return undefined;
    }
  }
  sign.fingerprint = fp;
  if (manifest?.signed && manifest.publicKeyFingerprint !== fp) {
    sign.message = `the signature is by key ${fp}, but the manifest names key ${manifest.publicKeyFingerprint}`;
    return undefined;
  }
  // The signature is good: the statement says what the signer saw. Check the directory against it too.
  let st: InTotoStatement;
  try {
    st = JSON.parse(env.payload.toString('utf8')) as InTotoStatement;
  } catch {
    sign.message = 'the signed payload is not JSON';
    return undefined;
  }
  if (st._type !== STATEMENT_TYPE || st.predicateType !== PREDICATE_TYPE || !Array.isArray(st.subject)) {
    sign.message = `the signed payload is not an Airlock in-toto statement (${String(st._type)}, ${String(st.predicateType)})`;
    return undefined;
  }
  const subjects = new Map(st.subject.map((s) => [s.name, s.digest?.sha256]));
  const manifestHash = fs.existsSync(path.join(dir, MANIFEST_FILE)) ? hashFile(path.join(dir, MANIFEST_FILE)).sha256 : undefined;
  const bad: string[] = [];
  if (subjects.get(MANIFEST_FILE) !== manifestHash) bad.push(MANIFEST_FILE);
  for (const [name, h] of subjects) {
    if (name === MANIFEST_FILE) continue;
    const a = actual.get(name);
    if (a === undefined) {
      if (!report.files.missing.includes(name)) report.files.missing.push(name);
    } else if (a !== h) {
      if (!report.files.altered.includes(name)) report.files.altered.push(name);
    }
  }
  for (const name of actual.keys()) if (!subjects.has(name) && !report.files.extra.includes(name)) report.files.extra.push(name);
  if (bad.length) {
    if (!report.files.altered.includes(MANIFEST_FILE)) report.files.altered.push(MANIFEST_FILE);
    sign.message = `the signature is valid, but ${MANIFEST_FILE} is not the manifest that was signed`;
    return undefined;
  }
  if (sign.keySource === 'trusted') {
    sign.status = 'valid';
    sign.message = `Ed25519 signature by trusted key ${fp} (from ${sign.trustedBy})`;
  } else {
    sign.status = 'untrusted';
    sign.message = `INTEGRITY ONLY, signer not trusted: the Ed25519 signature is valid under the key the run carries, fingerprint ${fp}, which ${
      trusted.length ? `is not among the ${trusted.length} trusted key${trusted.length === 1 ? '' : 's'}` : 'no trusted key was given to match (--key, --keyring or AIRLOCK_KEYRING)'
    }; anyone can re-sign altered files with a key of their own`;
  }
  if (manifest && !manifest.signed) sign.message += `; ${MANIFEST_FILE} says signed: false (written before the key was given), the signed statement names the key`;
  return key;
}

/** test-result.sig.json: present when the manifest says so, signed by the run's signer, and agreeing with the manifest's verdicts. */
function checkTestResult(dir: string, manifest: Manifest | undefined, signer: KeyObject | undefined, actual: Map<string, string>, report: VerifyReport): void {
  const t = report.testResult;
  const file = path.join(dir, TEST_RESULT_FILE);
  if (!fs.existsSync(file)) {
    if (manifest?.testResult) {
      t.status = 'missing';
      t.message = `${TEST_RESULT_FILE} is missing but the manifest says the run carries one`;
    } else {
      t.status = 'absent';
      t.message = `no ${TEST_RESULT_FILE} (the run is unsigned, or older than the test-result attestation)`;
    }
    return;
  }
  t.status = 'invalid';
  const j = tryReadJson(file);
  const env = j.error ? { error: j.error } : envelopePayload(j.value);
  if ('error' in env) {
    t.message = `${TEST_RESULT_FILE}: ${env.error}`;
    return;
  }
  if (!signer) {
    t.message = `${TEST_RESULT_FILE} cannot be checked: the run's signature did not verify`;
    return;
  }
  if (env.envelope.payloadType !== DSSE_PAYLOAD_TYPE || !verifyEnvelope(env.envelope, env.payload, signer)) {
    t.message = `${TEST_RESULT_FILE}: the signature does not verify under the run's signing key`;
    return;
  }
  let st: InTotoStatement;
  try {
    st = JSON.parse(env.payload.toString('utf8')) as InTotoStatement;
  } catch {
    t.message = `${TEST_RESULT_FILE}: the signed payload is not JSON`;
    return;
  }
  const p = st.predicate as { result?: unknown; airlockRun?: { runId?: unknown; verdict?: unknown } };
  const manifestHash = fs.existsSync(path.join(dir, MANIFEST_FILE)) ? hashFile(path.join(dir, MANIFEST_FILE)).sha256 : undefined;
  const subj = new Map((Array.isArray(st.subject) ? st.subject : []).map((s) => [s.name, s.digest?.sha256]));
  const problems: string[] = [];
  if (st._type !== STATEMENT_TYPE || st.predicateType !== TEST_RESULT_PREDICATE_TYPE) problems.push(`not a test-result statement (${String(st._type)}, ${String(st.predicateType)})`);
  if (subj.get(MANIFEST_FILE) !== manifestHash) problems.push(`its ${MANIFEST_FILE} subject is not this manifest`);
  if (subj.has('result.json') && subj.get('result.json') !== actual.get('result.json')) problems.push('its result.json subject is not this result.json');
  // FAILED is always a safe reading; PASSED only for a PASS, and nothing else is allowed.
  if (p.result !== 'FAILED' && p.result !== testResultOf(manifest?.verdict)) problems.push(`result ${String(p.result)} but the manifest's verdict is ${manifest?.verdict}`);
  if (manifest && p.airlockRun?.verdict !== manifest.verdict) problems.push(`verdict ${String(p.airlockRun?.verdict)} but the manifest's is ${manifest.verdict}`);
  if (problems.length) {
    t.message = `${TEST_RESULT_FILE}: ${problems.join('; ')}`;
    return;
  }
  t.status = 'valid';
  t.result = p.result as string;
  t.message = `in-toto test-result statement, result ${String(p.result)} (run verdict ${String(p.airlockRun?.verdict)}), signed by the same key`;
}

async function checkReanalysis(dir: string, recorded: Partial<RunResult> | undefined, opts: VerifyOptions, report: VerifyReport): Promise<void> {
  const r = report.reanalysis;
  r.recordedVersion = recorded?.analyzerVersion;
  if (!opts.reanalyze) {
    r.status = 'unavailable';
    r.message = `re-analysis unavailable${opts.reanalyzeUnavailableReason ? `: ${opts.reanalyzeUnavailableReason}` : ''}; verdicts were not re-derived`;
    return;
  }
  if (!recorded || !Array.isArray(recorded.phases)) {
    r.status = 'error';
    r.message = 'result.json is missing or unreadable: no recorded verdicts to compare';
    return;
  }
  let again: ReanalysisResult;
  try {
    again = await opts.reanalyze(dir);
  } catch (e) {
    r.status = 'error';
    r.message = `re-analysis failed, verdicts were not re-derived: ${(e as Error).message}`;
    return;
  }
  r.analyzerVersion = again.analyzerVersion;
  const d = r.differences;
  if (again.verdict !== recorded.verdict) d.push(`run verdict: recorded ${recorded.verdict}, re-analysis ${again.verdict}`);
  const n = Math.max(recorded.phases.length, again.phases.length);
  for (let i = 0; i < n; i++) {
    const a = recorded.phases[i];
    const b = again.phases[i];
    const label = `phase ${i + 1} "${a?.name ?? b?.name}"`;
    if (!a || !b || a.name !== b.name) {
      d.push(`${label}: recorded ${a ? `"${a.name}"` : 'nothing'}, re-analysis ${b ? `"${b.name}"` : 'nothing'}`);
      continue;
    }
    if (a.verdict !== b.verdict) d.push(`${label}: recorded ${a.verdict}, re-analysis ${b.verdict}`);
    const m = Math.max(a.assertions.length, b.assertions.length);
    for (let j = 0; j < m; j++) {
      const x = a.assertions[j];
      const y = b.assertions[j];
      if (!x || !y || x.kind !== y.kind) d.push(`${label} assertion ${j + 1}: recorded ${x?.kind ?? 'nothing'}, re-analysis ${y?.kind ?? 'nothing'}`);
      else if (x.verdict !== y.verdict) d.push(`${label} ${x.kind}: recorded ${x.verdict}, re-analysis ${y.verdict}`);
    }
  }
  const same = again.analyzerVersion === recorded.analyzerVersion;
  if (d.length === 0) {
    r.status = 'agrees';
    r.message = `re-analysis with version ${again.analyzerVersion} agrees with the recorded verdicts${same ? '' : ` (recorded under ${recorded.analyzerVersion})`}`;
  } else if (same) {
    r.status = 'differs';
    r.message = `re-analysis with the same analyzer version ${again.analyzerVersion} disagrees with the recorded verdicts`;
  } else {
    r.status = 'differs-other-version';
    r.message = `re-analysis with version ${again.analyzerVersion} differs from the verdicts recorded under ${recorded.analyzerVersion} (not tampering)`;
  }
}

async function verifyDir(input: string, dir: string, bundle: boolean, opts: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {
    input,
    bundle,
    runDir: dir,
    outcome: 'not-verified',
    verified: false,
    manifest: { present: false },
    files: { checked: 0, altered: [], missing: [], extra: [] },
    signature: { status: 'unsigned', trustedKeys: (opts.trustedKeys ?? []).map((k) => k.fingerprint), message: '' },
    testResult: { status: 'absent', message: '' },
    reanalysis: { status: 'unavailable', differences: [], message: '' },
    problems: [],
  };
  const mj = tryReadJson(path.join(dir, MANIFEST_FILE));
  let manifest: Manifest | undefined;
  if (mj.error) report.manifest.error = mj.error;
  else if (!mj.value || typeof mj.value !== 'object' || !Array.isArray((mj.value as Manifest).files)) report.manifest.error = 'not an Airlock manifest';
  else {
    manifest = mj.value as Manifest;
    report.manifest = { present: true, runId: manifest.runId, scenario: manifest.scenario, verdict: manifest.verdict };
  }
  const actual = checkFiles(dir, manifest, report);
  const signer = checkSignature(dir, manifest, actual, opts, report);
  checkTestResult(dir, manifest, signer, actual, report);
  const rj = tryReadJson(path.join(dir, 'result.json'));
  await checkReanalysis(dir, rj.value as Partial<RunResult> | undefined, opts, report);

  const p = report.problems;
  if (!manifest) p.push(`${MANIFEST_FILE}: ${report.manifest.error}`);
  for (const f of report.files.altered) p.push(`altered: ${f}`);
  for (const f of report.files.missing) p.push(`missing: ${f}`);
  for (const f of report.files.extra) p.push(`extra: ${f}`);
  if (report.signature.status === 'invalid' || report.signature.status === 'missing') p.push(`signature (${SIGNATURE_FILE}): ${report.signature.message}`);
  if (report.testResult.status === 'invalid' || report.testResult.status === 'missing') p.push(report.testResult.message);
  // Only a disagreement under the same analyzer version counts against the run. A re-analysis that
  // is unavailable or fails is reported, and the run is then verified on hashes and signature only.
  if (report.reanalysis.status === 'differs') {
    p.push(report.reanalysis.message);
    for (const x of report.reanalysis.differences) p.push(`  ${x}`);
  }
  const trusted = report.signature.status === 'valid';
  report.outcome = p.length ? 'not-verified' : trusted ? 'verified' : 'integrity-only';
  report.verified = report.outcome === 'verified';
  return report;
}

/**
 * Verifies a run directory or a `.tar.gz` bundle. Throws BundleInputError (exit 2) for input that is
 * not a run directory or a readable, safe archive; everything else is in the report.
 */
export async function verifyRun(input: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch (e) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_NO_INPUT', `no such run directory or bundle: ${input}`, { cause: e });
  }
  for (const k of opts.trustedKeys ?? []) publicKeyFromPem(k.pem); // a bad --key is an input error, not a failed verification
  if (st.isDirectory()) return verifyDir(input, path.resolve(input), false, opts);
  if (!st.isFile() || !isGzipFile(input)) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${input} is neither a run directory nor a .tar.gz bundle`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-verify-'));
  try {
    const dir = await unpackBundle(input, tmp);
    const report = await verifyDir(input, dir, true, opts);
    report.runDir = path.relative(tmp, dir) || '.';
    return report;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The report as text for a person; the last line is VERIFIED, INTEGRITY ONLY, ... or NOT VERIFIED. */
export function formatVerifyReport(r: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`verify ${r.input}${r.bundle ? ` (bundle; run directory ${r.runDir})` : ''}`);
  if (r.manifest.present) lines.push(`  run ${r.manifest.runId} of scenario ${r.manifest.scenario}: recorded verdict ${r.manifest.verdict}`);
  else lines.push(`  manifest: ${r.manifest.error}`);
  const f = r.files;
  if (!f.altered.length && !f.missing.length && !f.extra.length) lines.push(`  files: ${f.checked} checked, every hash matches the manifest`);
  else lines.push(`  files: ${f.checked} checked`);
  for (const x of f.altered) lines.push(`  ALTERED  ${x}`);
  for (const x of f.missing) lines.push(`  MISSING  ${x}`);
  for (const x of f.extra) lines.push(`  EXTRA    ${x}`);
  const s = r.signature;
  lines.push(`  signature (${SIGNATURE_FILE}): ${s.status === 'unsigned' || s.status === 'untrusted' ? '' : s.status.toUpperCase() + ': '}${s.message}`);
  lines.push(`  test result (${TEST_RESULT_FILE}): ${r.testResult.status === 'valid' || r.testResult.status === 'absent' ? '' : r.testResult.status.toUpperCase() + ': '}${r.testResult.message}`);
  lines.push(`  re-analysis: ${r.reanalysis.message}`);
  for (const d of r.reanalysis.differences) lines.push(`    ${d}`);
  const notes = [(r.reanalysis.status === 'unavailable' || r.reanalysis.status === 'error') && 'verdicts not re-derived'].filter(Boolean);
  const last =
    r.outcome === 'verified'
      ? 'VERIFIED'
      : r.outcome === 'integrity-only'
        ? `INTEGRITY ONLY, ${s.status === 'unsigned' ? 'unsigned' : `signer not trusted (${s.fingerprint})`}`
        : 'NOT VERIFIED';
  lines.push(r.outcome === 'not-verified' ? last : `${last}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  return lines.join('\n');
}
