/**
 * Generates docs/reference/ from the sources of truth: the JSON Schemas in schema/ (the same
 * files `airlock validate` and editors use) and the command line's own `--help`. `npm run docs`
 * writes the pages (test/docs/write-reference.ts); test/docs/reference.test.ts fails when a
 * committed page differs from what this generates, so the reference can never go stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';

type Schema = {
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  definitions?: Record<string, Schema>;
  $defs?: Record<string, Schema>;
};

const root = join(import.meta.dirname, '..', '..');

function md(text: string | undefined): string {
  return (text ?? '').replace(/\|/g, '\\|').replace(/\n+/g, ' ').trim();
}

function typeOf(s: Schema, defs: Record<string, Schema>): string {
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    const def = defs[name];
    return def ? `${name}${def.description ? '' : ''}` : name;
  }
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return alts.map((a) => typeOf(a, defs)).join(' or ');
  if (s.type === 'array' && s.items) return `list of ${typeOf(s.items, defs)}`;
  if (Array.isArray(s.type)) return s.type.join(' or ');
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties)
    return 'map of name to object';
  return s.type ?? 'any';
}

function constraints(s: Schema): string {
  const c: string[] = [];
  if (s.minimum !== undefined) c.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) c.push(`≤ ${s.maximum}`);
  if (s.pattern) c.push(`pattern \`${s.pattern}\``);
  if (s.default !== undefined) c.push(`default \`${JSON.stringify(s.default)}\``);
  return c.join('; ');
}

/** The object schemas a property leads to (directly, through items, a map's values or alternatives). */
function nested(s: Schema): Schema[] {
  const out: Schema[] = [];
  if (s.properties) out.push(s);
  else if (s.items) out.push(...nested(s.items));
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(...nested(s.additionalProperties));
  for (const a of [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])]) out.push(...nested(a));
  return out;
}

function objectSection(path: string, s: Schema, defs: Record<string, Schema>, level: number, out: string[]): void {
  out.push(`${'#'.repeat(Math.min(level, 6))} \`${path}\``, '');
  if (s.description) out.push(md(s.description), '');
  const req = new Set(s.required ?? []);
  const rows = Object.entries(s.properties ?? {});
  if (rows.length) {
    out.push('| key | type | required | description |', '| --- | --- | --- | --- |');
    for (const [k, p] of rows) {
      const extra = constraints(p);
      out.push(`| \`${k}\` | ${md(typeOf(p, defs))} | ${req.has(k) ? 'yes' : ''} | ${md(p.description)}${extra ? ` (${md(extra)})` : ''} |`);
    }
    out.push('');
  }
  if (s.additionalProperties === false) out.push('No other keys are allowed.', '');
  for (const [k, p] of rows) {
    const seen = new Set<Schema>();
    for (const child of nested(p)) {
      if (seen.has(child)) continue;
      seen.add(child);
      const suffix = p.type === 'array' ? '[]' : p.additionalProperties && typeof p.additionalProperties === 'object' && !p.properties ? '.<name>' : '';
      objectSection(`${path === '(top level)' ? '' : path + '.'}${k}${suffix}`, child, defs, level + 1, out);
    }
  }
}

export function schemaPage(file: 'rig' | 'scenario' | 'suite'): string {
  const schema = JSON.parse(readFileSync(join(root, 'schema', `${file}.schema.json`), 'utf8')) as Schema;
  const defs = { ...(schema.definitions ?? {}), ...(schema.$defs ?? {}) };
  const out: string[] = [
    `# ${schema.title ?? file} reference`,
    '',
    `Generated from \`schema/${file}.schema.json\` by \`npm run docs\`; do not edit by hand.`,
    `Editors read the same schema (the first line of a file: \`# yaml-language-server: $schema=../schema/${file}.schema.json\`),`,
    'and `airlock validate` checks files against it.',
    '',
    'What a PASS proves, and what it does not: [the certifier\'s page](../certifier/what-a-pass-proves.md).',
    '',
  ];
  objectSection('(top level)', schema, defs, 2, out);
  const defNames = Object.keys(defs);
  if (defNames.length) {
    out.push('## Value types', '', '| type | meaning |', '| --- | --- |');
    for (const n of defNames) {
      const d = defs[n]!;
      out.push(`| ${n} | ${md(d.description ?? typeOf(d, defs))}${d.pattern ? ` (pattern \`${md(d.pattern)}\`)` : ''} |`);
    }
    out.push('');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

async function help(args: string[]): Promise<string> {
  // The same text whether `npm run docs` runs in a terminal or not: commander wraps help at the
  // terminal's width and colours it on a TTY, so present a plain 80-column stream while asking.
  const tty = process.stdout.isTTY;
  const noColor = process.env.NO_COLOR;
  process.stdout.isTTY = false as unknown as true;
  process.env.NO_COLOR = '1';
  try {
    const io = memoryIO();
    await main([...args, '--help'], io);
    return [...io.stdout, ...io.stderr].join('\n').trimEnd();
  } finally {
    process.stdout.isTTY = tty;
    if (noColor === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = noColor;
  }
}

export async function cliPage(): Promise<string> {
  const top = await help([]);
  const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  const out = [
    '# Command-line reference',
    '',
    'Generated from `airlock --help` by `npm run docs`; do not edit by hand.',
    '',
    'What a PASS proves, and what it does not: [the certifier\'s page](../certifier/what-a-pass-proves.md).',
    '',
    '```',
    top,
    '```',
    '',
  ];
  for (const c of commands) out.push(`## \`airlock ${c}\``, '', '```', await help([c]), '```', '');
  return out.join('\n').trimEnd() + '\n';
}

export async function referencePages(): Promise<Record<string, string>> {
  return {
    'docs/reference/rig.md': schemaPage('rig'),
    'docs/reference/scenario.md': schemaPage('scenario'),
    'docs/reference/suite.md': schemaPage('suite'),
    'docs/reference/cli.md': await cliPage(),
  };
}
