/**
 * Code comments cite only files in the repository: a comment that points at a design note
 * kept elsewhere leaves the next reader with nothing to open. Every `docs/...md` a source file
 * mentions must exist.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|cjs|mjs|js)$/.test(f) ? [p] : [];
  });
}

const self = join(import.meta.dirname, 'comments.test.ts');
const sources = ['src', 'test', 'bench'].flatMap((d) => files(join(root, d))).filter((f) => f !== self);

describe('code comments cite the repository', () => {
  it('no source file cites a design note outside the repository', () => {
    const outside = /\b(DESIGN|STYLE|DEVELOPERS)\.md\b/;
    const hits = sources
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ f, line, i })))
      .filter(({ line }) => outside.test(line))
      .map(({ f, i, line }) => `${relative(root, f)}:${i + 1}: ${line.trim()}`);
    expect(hits).toEqual([]);
  });

  it('every docs/ page a source file cites exists', () => {
    const missing: string[] = [];
    for (const f of sources) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bdocs\/[A-Za-z0-9_/.-]+\.md\b/g))
        if (!existsSync(join(root, m[0]))) missing.push(`${relative(root, f)}: ${m[0]}`);
    }
    expect(missing).toEqual([]);
  });
});
