/**
 * Every input the fuzzers found (test/fixtures/fuzz/<target>/) replayed through its fuzz target
 * (test/fuzz/targets/<target>.fuzz.ts): the target throws when the reader fails with anything but a
 * clean InputError or breaks an invariant it documents, so each input here must now pass.
 * The files of each finding are also tested for what the fix does, in the tests beside this one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const fixtures = path.resolve('test/fixtures/fuzz');
const targets = fs.readdirSync(fixtures).filter((d) => fs.statSync(path.join(fixtures, d)).isDirectory());

describe('fuzz findings replayed through their targets', () => {
  it('has findings to replay', () => {
    expect(targets.length).toBeGreaterThan(0);
  });
  for (const target of targets) {
    for (const file of fs.readdirSync(path.join(fixtures, target))) {
      it(`${target}: ${file}`, async () => {
        const mod = (await import(`../fuzz/targets/${target}.fuzz.ts`)) as { fuzz: (data: Buffer) => unknown };
        const data = fs.readFileSync(path.join(fixtures, target, file));
        await expect(Promise.resolve().then(() => mod.fuzz(data))).resolves.toBeUndefined();
      });
    }
  }
});
