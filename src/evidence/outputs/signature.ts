/** Output: manifest.sig.json, the DSSE signature over the manifest (only when the run has a signing key). */
import { SIGNATURE_FILE } from '../manifest.js';
import { signRun } from '../signing.js';
import type { RunOutput } from './output.js';

export function signatureOutput(signingKeyPem: string): RunOutput {
  return { name: SIGNATURE_FILE, write: async (_record, runDir) => signRun(runDir, signingKeyPem) };
}
