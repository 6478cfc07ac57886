import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referencePages } from './reference.js';

const root = join(import.meta.dirname, '..', '..');

describe('generated reference (docs/reference/)', () => {
  it('every page is what `npm run docs` generates from the schemas and --help today', async () => {
    const pages = await referencePages();
    expect(Object.keys(pages).length).toBeGreaterThanOrEqual(4);
    for (const [path, text] of Object.entries(pages)) {
      const committed = readFileSync(join(root, path), 'utf8');
      expect(committed, `${path} is stale: run npm run docs`).toBe(text);
    }
  });

  it('documents every top-level key of every schema and every command', async () => {
    const pages = await referencePages();
    for (const kind of ['rig', 'scenario', 'suite'] as const) {
      const schema = JSON.parse(readFileSync(join(root, 'schema', `${kind}.schema.json`), 'utf8')) as { properties: Record<string, unknown> };
      for (const key of Object.keys(schema.properties)) expect(pages[`docs/reference/${kind}.md`]).toContain(`| \`${key}\` |`);
    }
    for (const cmd of ['run', 'validate', 'analyze', 'verify', 'bundle', 'keygen', 'suite', 'compare', 'history'])
      expect(pages['docs/reference/cli.md']).toContain(`## \`airlock ${cmd}\``);
  });
});
