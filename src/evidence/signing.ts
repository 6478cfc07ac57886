/**
 * Signs a sealed run directory: an in-toto Statement v1 whose subjects are manifest.json and every
 * file it lists, in a DSSE envelope signed with Ed25519, written as manifest.sig.json; and, with the
 * same key in the same envelope format, the standard test-result statement (test-result.ts),
 * written as test-result.sig.json.
 */
import { createPublicKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DSSE_PAYLOAD_TYPE, signEnvelope, STATEMENT_TYPE, type InTotoStatement } from './dsse.js';
import { RunDirectoryError } from './errors.js';
import { fingerprintOf, privateKeyFromPem } from './keys.js';
import { hashFile, MANIFEST_FILE, SIGNATURE_FILE, TEST_RESULT_FILE, writeManifest, type Manifest, type WriteManifestOptions } from './manifest.js';
import { writeOnce } from './run-directory.js';
import { buildTestResultStatement } from './test-result.js';

export const PREDICATE_TYPE = 'https://airlock.invalid/attestation/run-evidence/v1';

/** What the statement's predicate carries: the manifest without its file list (the subjects are the files). */
export function manifestSummary(m: Manifest, manifestSha256: string): Record<string, unknown> {
  const { files, publicKey: _pk, versions, ...rest } = m;
  const { dependencies, ...tools } = versions;
  return {
    ...rest,
    versions: { ...tools, dependencyCount: Object.keys(dependencies).length },
    manifest: { name: MANIFEST_FILE, sha256: manifestSha256 },
    fileCount: files.length,
  };
}

export function buildStatement(m: Manifest, manifestSha256: string): InTotoStatement {
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: MANIFEST_FILE, digest: { sha256: manifestSha256 } },
      ...m.files.map((f) => ({ name: f.name, digest: { sha256: f.sha256 } })),
    ],
    predicateType: PREDICATE_TYPE,
    predicate: manifestSummary(m, manifestSha256),
  };
}

/**
 * Signs the run directory's manifest with the private key (PKCS8 PEM), writing manifest.sig.json.
 * Best: write the manifest with the same key first (writeManifest(dir, { signingKeyPem }) or
 * sealRun), so manifest.json itself records `signed: true` and the key. A manifest written without
 * it is still signed; the statement then carries the public key and verify says so.
 */
export function signRun(runDir: string, privateKeyPem: string): void {
  const dir = path.resolve(runDir);
  const key = privateKeyFromPem(privateKeyPem);
  const publicKey = createPublicKey(key);
  const fingerprint = fingerprintOf(publicKey);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const m = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  if (m.signed && m.publicKeyFingerprint !== fingerprint) {
    throw new RunDirectoryError(
      'AIRLOCK_EVIDENCE_EXISTS',
      `${manifestPath} names signing key ${m.publicKeyFingerprint}, not this key ${fingerprint}`,
    );
  }
  const { sha256 } = hashFile(manifestPath);
  const statement = buildStatement(m, sha256);
  statement.predicate.signature = {
    publicKeyFingerprint: fingerprint,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    manifestRecordsKey: m.signed === true,
  };
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const envelope = signEnvelope(payload, DSSE_PAYLOAD_TYPE, key, fingerprint);
  writeOnce(path.join(dir, SIGNATURE_FILE), JSON.stringify(envelope, null, 2) + '\n');
  const testResult = Buffer.from(JSON.stringify(buildTestResultStatement(m, sha256)), 'utf8');
  writeOnce(path.join(dir, TEST_RESULT_FILE), JSON.stringify(signEnvelope(testResult, DSSE_PAYLOAD_TYPE, key, fingerprint), null, 2) + '\n');
}

/**
 * Seals a run directory: writes the manifest and, when a key is given, signs it. The orchestrator
 * calls this last, after captures are closed and result.json and the reports are written.
 */
export function sealRun(runDir: string, opts: WriteManifestOptions = {}): Manifest {
  const m = writeManifest(runDir, opts);
  if (opts.signingKeyPem) signRun(runDir, opts.signingKeyPem);
  return m;
}
