/**
 * The config shape is written once, in schema/: the generated types of the files as written are
 * what `npm run docs` makes from the schemas today, and src/config/types.ts cannot drift from them.
 * The drift checks compile types.ts against types generated from changed copies of the schemas,
 * in a scratch folder, with the project's own TypeScript.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONSchema } from 'json-schema-to-typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { readSchema, SCHEMA_TYPE_FILES, schemaTypeFiles, schemaTypes, type SchemaTypeKind } from './schema-types.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'airlock-schema-types-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Props = Record<string, JSONSchema>;
/** The object schema of a map's entries (`power: {NAME: {...}}`). */
const entryProps = (schema: JSONSchema, key: string): Props => ((schema.properties as Props)[key]!.additionalProperties as JSONSchema).properties as Props;

/** Type-checks src/config/types.ts against types generated from `schemas`; returns tsc's output and exit code. */
async function typecheckAgainst(name: string, schemas: Partial<Record<SchemaTypeKind, JSONSchema>>): Promise<{ status: number | null; out: string }> {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'src/config/generated'), { recursive: true });
  for (const f of ['types.ts', 'derive.ts']) copyFileSync(join(root, 'src/config', f), join(dir, 'src/config', f));
  for (const kind of Object.keys(SCHEMA_TYPE_FILES) as SchemaTypeKind[]) {
    writeFileSync(join(dir, SCHEMA_TYPE_FILES[kind]), await schemaTypes(kind, schemas[kind] ?? readSchema(kind)));
  }
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022', '--skipLibCheck', '--pretty', 'false', join(dir, 'src/config/types.ts')],
    { encoding: 'utf8' },
  );
  return { status: tsc.status, out: tsc.stdout + tsc.stderr };
}

describe('config types derived from the JSON Schemas', () => {
  it('src/config/generated/ is what `npm run docs` generates from schema/ today', async () => {
    for (const [path, text] of Object.entries(await schemaTypeFiles())) {
      expect(readFileSync(join(root, path), 'utf8'), `${path} is stale: run npm run docs`).toBe(text);
    }
  }, 60_000);

  it('types.ts type-checks against the schemas as they are (the scratch build itself works)', async () => {
    const r = await typecheckAgainst('as-is', {});
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  it('a schema field without a rule in types.ts, or a rule for a field the schema lost, fails typecheck naming it', async () => {
    const rig = readSchema('rig');
    // A new field of a power channel, and a button field removed.
    entryProps(rig, 'power').max_current = { $ref: '#/definitions/current', description: 'A field nobody wrote a rule for.' };
    delete entryProps(rig, 'buttons').baud;
    // A new kind of scenario step.
    const scenario = readSchema('scenario');
    const steps = ((scenario.properties as Props).phases!.items as JSONSchema).properties as Props;
    const step = (steps.steps!.items as JSONSchema).properties as Props;
    step.beep = { type: 'string', description: 'A step kind nobody wrote a rule for.' };
    const r = await typecheckAgainst('changed', { rig, scenario });
    expect(r.status).not.toBe(0);
    const errors = r.out.split('\n').filter((l) => /error TS/.test(l));
    expect(r.out).toMatch(/Property 'max_current' is missing/);
    expect(r.out).toMatch(/a rule names a field the schema does not have': "baud"/);
    expect(r.out).toMatch(/Property 'beep' is missing/);
    // Nothing else broke: each error is one of the three.
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const e of errors) expect(e).toMatch(/types\.ts\(\d+,\d+\): error TS2344/);
  }, 120_000);
});
