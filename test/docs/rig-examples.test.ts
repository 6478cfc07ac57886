/**
 * Every whole rig file the docs show (a YAML code block with a top-level `rig:` key and neither
 * `scenario:` nor `suite:`) passes `airlock validate`, so a newcomer who copies one starts from a
 * file Airlock accepts (the technicians' rig example once lacked the canaries a real bench must
 * have, and validate refused it).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Lexer, type Tokens } from 'marked';
import { afterAll, describe, expect, it } from 'vitest';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { memoryIO } from '../../src/cli/io.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'airlock-doc-rigs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pages(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === 'reference' ? [] : pages(p)) : f.endsWith('.md') ? [p] : [];
  });
}

/** The rig files among a page's YAML code blocks. */
function rigBlocks(page: string): string[] {
  const blocks = new Lexer().lex(readFileSync(page, 'utf8')).filter((t): t is Tokens.Code => t.type === 'code' && /^ya?ml$/.test(t.lang ?? ''));
  return blocks
    .map((b) => b.text)
    .filter((text) => /^rig:/m.test(text) && !/^(scenario|suite):/m.test(text));
}

describe('rig files shown in the docs', () => {
  const found = [join(root, 'README.md'), ...pages(join(root, 'docs'))].flatMap((page) => rigBlocks(page).map((text, i) => ({ page: relative(root, page), i, text })));

  it('there are some (the real-bench rig of proof of sight, the technicians\' rig example)', () => {
    expect(found.map((f) => f.page)).toEqual(expect.arrayContaining(['docs/technician/proof-of-sight.md', 'docs/technician/scenarios-and-rigs.md']));
  });

  it.each(found.map((f) => [`${f.page} #${f.i + 1}`, f] as const))('%s passes airlock validate', async (_, f) => {
    const file = join(tmp, `${f.page.replaceAll('/', '_')}-${f.i}.yaml`);
    writeFileSync(file, f.text);
    const io = memoryIO();
    const code = await validateCommand({ files: [file] }, io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
  });
});
