/**
 * docs/developer/conventions.md 16: no empty catch. A catch that does nothing must say, in a
 * comment on it or on the line before, why ignoring the error is safe.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : f.endsWith('.ts') ? [p] : [];
  });
}

/** `catch {}`, `catch (e) { }` (comments inside count as a reason) and `.catch(() => undefined)`-style swallows. */
const blockCatch = /catch\s*(\([^)]*\))?\s*\{(\s*(\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*)\}/g;
const promiseCatch = /\.catch\(\s*\(\)\s*=>\s*(\{\s*\}|undefined|void 0|null|false|true|0)\s*\)/g;

export function unexplainedCatches(text: string): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  for (const re of [blockCatch, promiseCatch]) {
    for (const m of text.matchAll(re)) {
      const line = text.slice(0, m.index).split('\n').length;
      const explained = /\/\/|\/\*/.test(m[0]) || /\/\/|\/\*/.test(lines[line - 1] ?? '') || /^\s*(\/\/|\*)/.test(lines[line - 2] ?? '');
      if (!explained) out.push(line);
    }
  }
  return out;
}

describe('empty catches', () => {
  it('the detector sees an unexplained one and accepts an explained one', () => {
    expect(unexplainedCatches('try { a(); } catch {}\n')).toEqual([1]);
    expect(unexplainedCatches('x\np.catch(() => undefined);\n')).toEqual([2]);
    expect(unexplainedCatches('x\nawait p.catch(() => 0);\n')).toEqual([2]);
    expect(unexplainedCatches('try { a(); } catch {\n  // gone already: nothing to remove\n}\n')).toEqual([]);
    expect(unexplainedCatches('// the sleep rejects only on abort\np.catch(() => undefined);\n')).toEqual([]);
  });

  it('every catch in src/ that ignores its error says why', () => {
    const hits = files(join(root, 'src')).flatMap((f) =>
      unexplainedCatches(readFileSync(f, 'utf8')).map((line) => `${relative(root, f)}:${line}`),
    );
    expect(hits).toEqual([]);
  });
});
