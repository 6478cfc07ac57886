/**
 * The sealed, signed run directory the evidence targets start from: the evidence tests' own
 * fixture (test/evidence/run-fixture.ts), built once per fuzzing process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createBundle, generateKeyPair } from '../../../src/evidence/index.js';
import { buildRunDir } from '../../evidence/run-fixture.js';
import { scratchDir } from './common.js';

export interface EvidenceFixture {
  runDir: string;
  bundle: string;
  /** The original bytes of each file of the run directory, by name. */
  files: Map<string, Buffer>;
}

let built: Promise<EvidenceFixture> | undefined;

export function evidenceFixture(): Promise<EvidenceFixture> {
  built ??= (async () => {
    const base = path.join(scratchDir(), 'fixture');
    const tmp = path.join(base, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const { dir } = buildRunDir(path.join(base, 'runs'), tmp, { signingKeyPem: generateKeyPair().privateKeyPem });
    const bundle = path.join(base, 'run.tar.gz');
    await createBundle(dir, bundle);
    const files = new Map<string, Buffer>();
    for (const name of fs.readdirSync(dir)) files.set(name, fs.readFileSync(path.join(dir, name)));
    return { runDir: dir, bundle, files };
  })();
  return built;
}
