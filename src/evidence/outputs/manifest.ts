/** Output: manifest.json, the SHA-256 of every file of the run directory. Last but the signature: it seals the run. */
import { writeManifest } from '../manifest.js';
import type { RunOutput } from './output.js';

export function manifestOutput(signingKeyPem: string | undefined): RunOutput {
  return {
    name: 'manifest.json',
    // Records signed: true and the key's fingerprint when the run is signed.
    write: async (_record, runDir) => void writeManifest(runDir, { signingKeyPem }),
  };
}
