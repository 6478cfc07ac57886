/**
 * Every relative link in README.md and docs/ points at a file that exists, every #anchor at a
 * heading of that page (GitHub's slugs, by github-slugger), and every page of docs/ is reachable
 * from README.md. Markdown is parsed with marked, so links inside code blocks are not links.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import { Lexer, type Token } from 'marked';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function pages(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? pages(p) : f.endsWith('.md') ? [p] : [];
  });
}

function walk(tokens: Token[], visit: (t: Token) => void): void {
  for (const t of tokens) {
    visit(t);
    const any = t as Token & { tokens?: Token[]; items?: Token[]; rows?: { tokens: Token[] }[][]; header?: { tokens: Token[] }[] };
    if (any.tokens) walk(any.tokens, visit);
    if (any.items) walk(any.items, visit);
    if (any.header) for (const c of any.header) walk(c.tokens, visit);
    if (any.rows) for (const r of any.rows) for (const c of r) walk(c.tokens, visit);
  }
}

const cache = new Map<string, { links: string[]; anchors: Set<string> }>();
function parse(file: string): { links: string[]; anchors: Set<string> } {
  const hit = cache.get(file);
  if (hit) return hit;
  const tokens = new Lexer().lex(readFileSync(file, 'utf8'));
  const slugger = new GithubSlugger();
  const links: string[] = [];
  const anchors = new Set<string>();
  walk(tokens, (t) => {
    if (t.type === 'link') links.push((t as Token & { href: string }).href);
    if (t.type === 'heading') anchors.add(slugger.slug((t as Token & { text: string }).text.replace(/`/g, '')));
  });
  const parsed = { links, anchors };
  cache.set(file, parsed);
  return parsed;
}

const files = [join(root, 'README.md'), ...pages(join(root, 'docs'))];

describe('documentation links', () => {
  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const file of files) {
      for (const href of parse(file).links) {
        if (/^[a-z]+:/i.test(href)) continue; // https:, mailto:: not checked (no network here)
        const [path, anchor] = href.split('#') as [string, string | undefined];
        const target = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
        if (!existsSync(target)) {
          broken.push(`${relative(root, file)}: ${href} (no such file)`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !parse(target).anchors.has(anchor))
          broken.push(`${relative(root, file)}: ${href} (no heading #${anchor} in ${relative(root, target)})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every page of docs/ is reachable from README.md', () => {
    const seen = new Set<string>();
    const queue = [join(root, 'README.md')];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const href of parse(file).links) {
        if (/^[a-z]+:/i.test(href)) continue;
        const path = href.split('#')[0];
        if (!path) continue;
        const target = resolve(dirname(file), decodeURIComponent(path));
        if (target.endsWith('.md') && existsSync(target)) queue.push(target);
      }
    }
    const unreachable = pages(join(root, 'docs')).filter((p) => !seen.has(p)).map((p) => relative(root, p));
    expect(unreachable).toEqual([]);
  });

  it('every page (technicians, CI engineers, certifiers, developers, performance, the generated reference) links what a PASS proves', () => {
    const target = join(root, 'docs', 'certifier', 'what-a-pass-proves.md');
    const missing = [...['technician', 'ci', 'certifier', 'developer', 'reference'].flatMap((d) => pages(join(root, 'docs', d))), join(root, 'docs', 'performance.md')]
      .filter((p) => p !== target)
      .filter((p) => !parse(p).links.some((href) => resolve(dirname(p), decodeURIComponent(href.split('#')[0]!)) === target))
      .map((p) => relative(root, p));
    expect(missing).toEqual([]);
  });

  it('the README stays short (a map, not a manual)', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(200);
  });
});
