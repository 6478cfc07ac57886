/**
 * docs/developer/conventions.md 16: no empty catch. A catch that does nothing (`catch {}`,
 * `.catch(() => undefined)`) must say why ignoring the error is safe, in a comment in one of three
 * places: inside the catch, after it on the line where it ends, or in the `//` comment directly
 * above the line where it begins (the place the one-line `.catch(() => ...)` uses). A comment
 * anywhere else (a block's JSDoc, a remark two lines up) is not its reason. The reason must say
 * something: at least three words, not all of them the words of "ignore the error, it is safe".
 * Checked over src/, test/ and bench/.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'node_modules' ? [] : files(p);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(f) ? [p] : [];
  });
}

/** Comments only: what an empty catch body or arrow body may hold. */
const onlyComments = String.raw`(?:\s*(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*`;
/** `catch {}`, `catch (e) { }`, each possibly holding nothing but comments. */
const blockCatch = new RegExp(String.raw`\bcatch\s*(?:\([^)]*\))?\s*\{${onlyComments}\}`, 'g');
/** `.catch(() => undefined)`, `.catch((e) => {})`, `.catch(_ => null)` and the like: swallows. */
const promiseCatch = new RegExp(String.raw`\.catch\(\s*(?:\(\s*\w*\s*\)|\w+)\s*=>\s*(?:\{${onlyComments}\}|undefined|void 0|null|false|true|0)\s*\)`, 'g');

/** The words of a comment that only says the error is ignored (not why that is safe). */
const IGNORING = new Set(
  'ignore ignored ignores ignoring the a an this that it its is be to on here error errors exception exceptions fine ok okay safe safely best effort swallow swallowed nothing do deliberately intentionally intentional purpose empty catch noop no op'.split(' '),
);

/** Whether a comment's text gives a reason: three words or more, one at least not of IGNORING. */
export function isReason(comment: string): boolean {
  const words = comment.toLowerCase().match(/[a-z][a-z'-]*/g) ?? [];
  return words.length >= 3 && words.some((w) => !IGNORING.has(w));
}

/** The text of the comments in `code` (their markers dropped). */
function commentText(code: string): string {
  return [...code.matchAll(/\/\/([^\n]*)|\/\*([\s\S]*?)\*\//g)].map((m) => (m[1] ?? m[2] ?? '').replace(/^\s*\*+/gm, ' ')).join(' ');
}

/** 1-based lines of catches that swallow their error without a reason where the rule looks for it. */
export function unexplainedCatches(text: string): number[] {
  const lines = text.split('\n');
  const out: number[] = [];
  for (const re of [blockCatch, promiseCatch]) {
    for (const m of text.matchAll(re)) {
      const first = text.slice(0, m.index).split('\n').length;
      const end = m.index + m[0].length;
      // After the catch, on its last line: only `;`, `,` or `)` may come before the comment.
      const rest = text.slice(end, text.indexOf('\n', end) === -1 ? text.length : text.indexOf('\n', end));
      const trailing = /^[\s;,)]*(\/\/.*|\/\*.*?\*\/)/.exec(rest)?.[1] ?? '';
      // The `//` lines directly above the line where the catch begins.
      const above: string[] = [];
      for (let i = first - 2; i >= 0 && /^\s*\/\//.test(lines[i]!); i--) above.unshift(lines[i]!);
      const reason = [commentText(m[0]), commentText(trailing), commentText(above.join('\n'))].join(' ');
      if (!isReason(reason)) out.push(first);
    }
  }
  return out.sort((a, b) => a - b);
}

describe('empty catches', () => {
  it('the detector sees an unexplained one and accepts an explained one', () => {
    expect(unexplainedCatches('try { a(); } catch {}\n')).toEqual([1]);
    expect(unexplainedCatches('x\np.catch(() => undefined);\n')).toEqual([2]);
    expect(unexplainedCatches('x\nawait p.catch(() => 0);\n')).toEqual([2]);
    expect(unexplainedCatches('x\np.catch((e) => {});\n')).toEqual([2]);
    expect(unexplainedCatches('x\np.catch(_ => null);\n')).toEqual([2]);
    expect(unexplainedCatches('try { a(); } catch {\n  // gone already: nothing to remove\n}\n')).toEqual([]);
    expect(unexplainedCatches('try { a(); } catch (e) { /* the file may not exist yet */ }\n')).toEqual([]);
    expect(unexplainedCatches('// the sleep rejects only on abort\np.catch(() => undefined);\n')).toEqual([]);
    expect(unexplainedCatches('p.catch(() => undefined); // the sleep rejects only on abort\n')).toEqual([]);
    expect(unexplainedCatches('try { a(); } catch {} // the socket is closed by then\n')).toEqual([]);
    expect(unexplainedCatches('p.catch(() => {\n  // reported by the read that replaces it\n});\n')).toEqual([]);
    // A reason on two comment lines directly above.
    expect(unexplainedCatches('// the queue must not carry a failed command\n// on to the next one\nq = p.catch(() => undefined);\n')).toEqual([]);
  });

  it('a comment elsewhere is not the reason', () => {
    // A JSDoc's last line directly above.
    expect(unexplainedCatches('/**\n * Closes the port and frees the slot.\n */\np.catch(() => undefined);\n')).toEqual([4]);
    // A comment two lines above, about the code of the try.
    expect(unexplainedCatches('try {\n  // remove the old socket file first\n  unlink(p);\n} catch {}\n')).toEqual([4]);
    // `//` in a string on the catch line, and a comment after more code on it.
    expect(unexplainedCatches("p.catch(() => undefined); log('http://x.example/some/path');\n")).toEqual([1]);
    expect(unexplainedCatches('p.catch(() => undefined); f(); // the file may not exist yet\n')).toEqual([1]);
    // Inside the try, not the catch.
    expect(unexplainedCatches('try { /* the file may not exist yet */ a(); } catch {}\n')).toEqual([1]);
  });

  it('a comment that says nothing is not a reason', () => {
    for (const said of ['// ignore', '//', '/* */', '// ignored', '/* gone */', '// already gone', '// safe to ignore', '// ignore the error', '// best effort', '// EAGAIN', '// intentionally empty', '// nothing to do'])
      expect(unexplainedCatches(`try { a(); } catch {\n  ${said}\n}\n`), said).toEqual([1]);
    for (const said of ['// already gone: nothing to remove', '/* EAGAIN: the pipe is empty until the child writes */', '// the port is closed by then'])
      expect(unexplainedCatches(`try { a(); } catch {\n  ${said}\n}\n`), said).toEqual([]);
  });

  it('a planted unexplained catch in a source file is found, at its line', () => {
    const lines = readFileSync(join(root, 'src', 'devices', 'power', 'recorder.ts'), 'utf8').split('\n');
    expect(unexplainedCatches(lines.join('\n'))).toEqual([]);
    // After line 20: a block catch with a comment that says nothing, then a promise swallow under a JSDoc.
    const planted = [...lines.slice(0, 20), 'try { fs.unlinkSync(tmp); } catch {', '  // ignore', '}', '/** Flushes the file. */', 'void fh.sync().catch(() => undefined);', ...lines.slice(20)];
    expect(unexplainedCatches(planted.join('\n'))).toEqual([21, 25]);
  });

  it('every catch in src/, test/ and bench/ that ignores its error says why', () => {
    const self = join(root, 'test', 'docs', 'empty-catch.test.ts'); // its examples are strings, planted on purpose
    const hits = ['src', 'test', 'bench']
      .flatMap((d) => files(join(root, d)))
      .filter((f) => f !== self)
      .flatMap((f) => unexplainedCatches(readFileSync(f, 'utf8')).map((line) => `${relative(root, f)}:${line}`));
    expect(hits).toEqual([]);
  });
});
