/**
 * `verify` on a run directory one of whose files is replaced by the input: the first byte picks
 * the file (the manifest, its signature, result.json, the timeline, a capture), the rest is its
 * new content. Besides never throwing anything but an InputError, verify must never call a run
 * whose recorded files changed VERIFIED: that would be a forged run passing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, SIGNATURE_FILE, verifyRun } from '../../../src/evidence/index.js';
import { check, onlyInputError } from './common.js';
import { evidenceFixture } from './evidence-fixture.js';

export const VERIFY_FILES = [MANIFEST_FILE, SIGNATURE_FILE, 'result.json', 'timeline.jsonl', 'net-drone.pcap'];

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length < 1) return;
  const fx = await evidenceFixture();
  const name = VERIFY_FILES[data[0]! % VERIFY_FILES.length]!;
  const file = path.join(fx.runDir, name);
  const original = fx.files.get(name)!;
  const content = data.subarray(1);
  fs.writeFileSync(file, content);
  try {
    const report = await verifyRun(fx.runDir);
    const recorded = name !== MANIFEST_FILE && name !== SIGNATURE_FILE;
    if (recorded && !content.equals(original)) check(!report.verified, `${name} changed but the run verified`);
  } catch (e) {
    onlyInputError(e);
  } finally {
    fs.writeFileSync(file, original);
  }
}
