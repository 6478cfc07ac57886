/**
 * Evidence bundles (.tar.gz) given to `verify`: unpacked after listing (hostile entries refused),
 * then verified. The first input byte says whether the rest is the archive as it is, or a tar
 * stream that the target gzips (so the fuzzer reaches tar headers, not only gzip's checks).
 * Whatever the archive holds, nothing may be written outside the directory it is unpacked into.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { unpackBundle, verifyRun } from '../../../src/evidence/index.js';
import { check, inputFile, onlyInputError, scratchDir } from './common.js';

let n = 0;

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length < 1) return;
  const archive = data[0]! % 2 === 0 ? data.subarray(1) : zlib.gzipSync(data.subarray(1));
  const file = inputFile('bundle.tar.gz', archive);
  const outside = path.join(scratchDir(), 'outside');
  const dest = path.join(scratchDir(), `unpack-${n++}`);
  try {
    await unpackBundle(file, dest);
    await verifyRun(file);
  } catch (e) {
    onlyInputError(e);
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
  const strays = fs.readdirSync(scratchDir()).filter((f) => !['bundle.tar.gz', 'fixture'].includes(f));
  check(strays.length === 0 && !fs.existsSync(outside), `archive wrote outside its directory: ${strays.join(', ')}`);
}
