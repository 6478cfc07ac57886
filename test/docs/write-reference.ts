/**
 * `npm run docs`: writes docs/reference/ from the schemas and --help (see test/docs/reference.ts)
 * and the types of the files as written, src/config/generated/, from the schemas (test/config/schema-types.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { schemaTypeFiles } from '../config/schema-types.js';
import { referencePages } from './reference.js';

const root = join(import.meta.dirname, '..', '..');
for (const [path, text] of Object.entries({ ...(await referencePages()), ...(await schemaTypeFiles()) })) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
