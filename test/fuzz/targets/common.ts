/**
 * What every fuzz target shares: where it writes its input when the reader under test takes a
 * file, and what counts as a finding.
 *
 * A reader of hostile input may refuse it only with an InputError (src/errors.ts): the CLI turns
 * that into a clear message and the bad-input exit code. Any other exception would reach the
 * technician as a stack trace, so the target rethrows it and the fuzzer records the input.
 * Invariants that a reader documents (a finite time, a frame inside its buffer) are checked
 * with `check`, which throws a plain Error, so a broken one is a finding too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';

let scratch: string | undefined;

/** A directory of this fuzzing process's own, removed when it exits. */
export function scratchDir(): string {
  if (!scratch) {
    scratch = fs.mkdtempSync(path.join(process.env.AIRLOCK_FUZZ_TMP ?? os.tmpdir(), 'airlock-fuzz-'));
    const dir = scratch;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** Writes the input to a file named `name` in the scratch directory and returns its path. */
export function inputFile(name: string, data: Buffer | string): string {
  const file = path.join(scratchDir(), name);
  fs.writeFileSync(file, data);
  return file;
}

/** Swallows the reader's clean refusal of bad input; anything else is a finding. */
export function onlyInputError(e: unknown): void {
  if (e instanceof InputError) return;
  throw e;
}

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}
