/**
 * Generates the TypeScript types of the files as written (src/config/generated/) from the JSON
 * Schemas in schema/, with json-schema-to-typescript. `npm run docs` writes them with the
 * reference pages; test/config/schema-types.test.ts fails when they are stale. src/config/types.ts
 * derives the loaded config from them, so the schemas are the one place the config shape is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

const root = join(import.meta.dirname, '..', '..');

export type SchemaTypeKind = 'rig' | 'scenario' | 'suite';

export const SCHEMA_TYPE_FILES: Record<SchemaTypeKind, string> = {
  rig: 'src/config/generated/rig-file.ts',
  scenario: 'src/config/generated/scenario-file.ts',
  suite: 'src/config/generated/suite-file.ts',
};

export function readSchema(kind: SchemaTypeKind): JSONSchema {
  return JSON.parse(readFileSync(join(root, 'schema', `${kind}.schema.json`), 'utf8')) as JSONSchema;
}

/** The generated module for one schema (a schema object may be given: the tests change a copy). */
export async function schemaTypes(kind: SchemaTypeKind, schema: JSONSchema = readSchema(kind)): Promise<string> {
  const s = structuredClone(schema) as JSONSchema & { patternProperties?: Record<string, unknown> };
  // `x-` keys are a place for YAML anchors that the loaders ignore: not part of the shape.
  if (s.patternProperties) {
    delete s.patternProperties['^x-'];
    if (Object.keys(s.patternProperties).length === 0) delete s.patternProperties;
  }
  return compile(s, kind, {
    bannerComment: [
      '/**',
      ` * The ${kind} file as written, generated from schema/${kind}.schema.json by json-schema-to-typescript`,
      ' * (test/config/schema-types.ts). Do not edit: change the schema and run `npm run docs`.',
      ' * src/config/types.ts derives the loaded, unit-converted config from these types.',
      ' */',
    ].join('\n'),
    additionalProperties: false,
    strictIndexSignatures: false,
    ignoreMinAndMaxItems: true,
    unknownAny: true,
    format: true,
    cwd: join(root, 'schema'),
  });
}

/** Every generated file, by path from the repository root. */
export async function schemaTypeFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of Object.keys(SCHEMA_TYPE_FILES) as SchemaTypeKind[]) out[SCHEMA_TYPE_FILES[kind]] = await schemaTypes(kind);
  return out;
}
