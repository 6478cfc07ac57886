/**
 * Offline verification of a run directory or bundle: every hash, the DSSE signature, and the
 * verdicts re-derived from the raw captures. Tampering (hashes, signature) and a re-analysis that
 * disagrees under the same analyzer version make a run NOT VERIFIED; a newer analyzer that
 * disagrees is reported, not counted as tampering (DESIGN.md "Verify across versions").
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGzipFile, unpackBundle } from './bundle.js';
import { DSSE_PAYLOAD_TYPE, envelopePayload, STATEMENT_TYPE, verifyEnvelope, type InTotoStatement } from './dsse.js';
import { BundleInputError } from './errors.js';
import { fingerprintOf, publicKeyFromPem } from './keys.js';
import { hashFile, MANIFEST_FILE, SIGNATURE_FILE, walkRunDir, type Manifest } from './manifest.js';
import type { RunResult } from './result.js';
import { PREDICATE_TYPE } from './signing.js';

export interface ReanalysisResult {
  verdict: string;
  phases: { name: string; verdict: string; assertions: { kind: string; verdict: string }[] }[];
  analyzerVersion: string;
}
export type Reanalyze = (runDir: string) => Promise<ReanalysisResult>;

export interface VerifyOptions {
  /** SPKI PEM of the key the run must be signed with; without it the manifest's embedded key is used. */
  publicKeyPem?: string;
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
  verified: boolean;
  manifest: { present: boolean; error?: string; runId?: string; scenario?: string; verdict?: string };
  files: { checked: number; altered: string[]; missing: string[]; extra: string[] };
  signature: {
    status: 'valid' | 'invalid' | 'missing' | 'unsigned';
    /** Which key checked it: given with --key, or embedded in the manifest. */
    keySource?: 'given' | 'embedded';
    fingerprint?: string;
    message: string;
  };
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
    if (e.type === 'dir' || e.name === MANIFEST_FILE || e.name === SIGNATURE_FILE) continue;
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

function checkSignature(dir: string, manifest: Manifest | undefined, actual: Map<string, string>, opts: VerifyOptions, report: VerifyReport): void {
  const sigPath = path.join(dir, SIGNATURE_FILE);
  const sig = fs.existsSync(sigPath) ? tryReadJson(sigPath) : undefined;
  const sign = report.signature;
  if (!sig) {
    if (manifest?.signed) {
      sign.status = 'missing';
      sign.message = `${SIGNATURE_FILE} is missing but the manifest says the run was signed (key ${manifest.publicKeyFingerprint})`;
    } else if (opts.publicKeyPem) {
      sign.status = 'missing';
      sign.message = `UNSIGNED: the run carries no signature, but a key was given to check it with`;
    } else {
      sign.status = 'unsigned';
      sign.message = 'UNSIGNED: the run carries no signature; the hashes show only that files match the manifest, not who wrote it';
    }
    return;
  }
  sign.status = 'invalid';
  if (sig.error) {
    sign.message = `${SIGNATURE_FILE} is unreadable: ${sig.error}`;
    return;
  }
  const env = envelopePayload(sig.value);
  if ('error' in env) {
    sign.message = `${SIGNATURE_FILE}: ${env.error}`;
    return;
  }
  let keyPem = opts.publicKeyPem;
  sign.keySource = keyPem ? 'given' : 'embedded';
  // Without --key: the key the manifest records, else the one the signed statement carries
  // (a manifest written before the key was known). Either is self-asserted until pinned with --key.
  const statementKey = statementPublicKey(env.payload);
  const embeddedFingerprint = manifest?.signed ? manifest.publicKeyFingerprint : statementKey?.fingerprint;
  if (!keyPem) {
    keyPem = manifest?.signed ? manifest.publicKey : statementKey?.pem;
    if (!keyPem) {
      sign.message = 'no public key given (--key) and none embedded in the manifest or the statement';
      return;
    }
  }
  let fp: string;
  let key;
  try {
    key = publicKeyFromPem(keyPem);
    fp = fingerprintOf(key);
  } catch (e) {
    sign.message = `the ${sign.keySource} public key does not load: ${(e as Error).message}`;
    return;
  }
  sign.fingerprint = fp;
  if (sign.keySource === 'embedded' && embeddedFingerprint !== fp) {
    sign.message = `the embedded public key's fingerprint ${fp} is not the recorded ${embeddedFingerprint}`;
    return;
  }
  if (env.envelope.payloadType !== DSSE_PAYLOAD_TYPE) {
    sign.message = `payloadType is ${env.envelope.payloadType}, not ${DSSE_PAYLOAD_TYPE}`;
    return;
  }
  if (!verifyEnvelope(env.envelope, env.payload, key)) {
    const named = env.envelope.signatures.map((x) => x?.keyid).filter((k) => typeof k === 'string' && k !== fp);
    sign.message = `the signature does not verify under the ${sign.keySource} key ${fp}${named.length ? ` (it names key ${named.join(', ')})` : ''}`;
    return;
  }
  if (manifest?.signed && manifest.publicKeyFingerprint !== fp) {
    sign.message = `the signature is by key ${fp}, but the manifest names key ${manifest.publicKeyFingerprint}`;
    return;
  }
  // The signature is good: the statement says what the signer saw. Check the directory against it too.
  let st: InTotoStatement;
  try {
    st = JSON.parse(env.payload.toString('utf8')) as InTotoStatement;
  } catch {
    sign.message = 'the signed payload is not JSON';
    return;
  }
  if (st._type !== STATEMENT_TYPE || st.predicateType !== PREDICATE_TYPE || !Array.isArray(st.subject)) {
    sign.message = `the signed payload is not an Airlock in-toto statement (${String(st._type)}, ${String(st.predicateType)})`;
    return;
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
    return;
  }
  sign.status = 'valid';
  sign.message =
    sign.keySource === 'given'
      ? `Ed25519 signature by the given key ${fp}`
      : `Ed25519 signature by the embedded key, fingerprint ${fp} (compare it with the lab's published fingerprint, or pin it with --key)`;
  if (manifest && !manifest.signed) sign.message += `; ${MANIFEST_FILE} says signed: false (written before the key was given), the signed statement names the key`;
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
    verified: false,
    manifest: { present: false },
    files: { checked: 0, altered: [], missing: [], extra: [] },
    signature: { status: 'unsigned', message: '' },
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
  checkSignature(dir, manifest, actual, opts, report);
  const rj = tryReadJson(path.join(dir, 'result.json'));
  await checkReanalysis(dir, rj.value as Partial<RunResult> | undefined, opts, report);

  const p = report.problems;
  if (!manifest) p.push(`${MANIFEST_FILE}: ${report.manifest.error}`);
  for (const f of report.files.altered) p.push(`altered: ${f}`);
  for (const f of report.files.missing) p.push(`missing: ${f}`);
  for (const f of report.files.extra) p.push(`extra: ${f}`);
  if (report.signature.status === 'invalid' || report.signature.status === 'missing') p.push(`signature (${SIGNATURE_FILE}): ${report.signature.message}`);
  // Only a disagreement under the same analyzer version counts against the run. A re-analysis that
  // is unavailable or fails is reported, and the run is then verified on hashes and signature only.
  if (report.reanalysis.status === 'differs') {
    p.push(report.reanalysis.message);
    for (const x of report.reanalysis.differences) p.push(`  ${x}`);
  }
  report.verified = p.length === 0;
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
  if (opts.publicKeyPem) publicKeyFromPem(opts.publicKeyPem); // a bad --key is an input error, not a failed verification
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

/** The report as text for a person; the last line is VERIFIED or NOT VERIFIED. */
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
  lines.push(`  signature (${SIGNATURE_FILE}): ${s.status === 'unsigned' ? '' : s.status.toUpperCase() + ': '}${s.message}`);
  lines.push(`  re-analysis: ${r.reanalysis.message}`);
  for (const d of r.reanalysis.differences) lines.push(`    ${d}`);
  const notes = [s.status === 'unsigned' && 'UNSIGNED', (r.reanalysis.status === 'unavailable' || r.reanalysis.status === 'error') && 'verdicts not re-derived'].filter(Boolean);
  lines.push(r.verified ? `VERIFIED${notes.length ? ` (${notes.join('; ')})` : ''}` : 'NOT VERIFIED');
  return lines.join('\n');
}
