/**
 * Loads a suite file (YAML) into plain, validated data. Errors name file:line:col, like the rig
 * and scenario loaders: the YAML is parsed with positions and checked against
 * schema/suite.schema.json, and each schema error is mapped back to the node it is about.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import type { RawSuiteFile as RawSuite, SourcePos, SuiteConfig, SuiteEntry } from '../config/index.js';
import { SuiteFileError } from './errors.js';

const MAX_BYTES = 1024 * 1024;

/** The suite's loaded shape is derived from schema/suite.schema.json in src/config/types.ts. */
export type { SuiteConfig, SuiteEntry };

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(): ReturnType<Ajv['compile']> {
  if (validator) return validator;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/regression or dist/src/regression: walk up to the folder that holds schema/.
  let dir = here;
  for (let i = 0; i < 5 && !fs.existsSync(path.join(dir, 'schema', 'suite.schema.json')); i++) dir = path.dirname(dir);
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schema', 'suite.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  validator = ajv.compile(schema);
  return validator;
}

function at(file: string, lc: LineCounter, offset: number): SourcePos {
  const p = lc.linePos(offset);
  return { file, line: p.line, col: p.col };
}

function where(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** The node an ajv error is about (for unknown keys: the key itself). */
function nodeFor(doc: Document, err: ErrorObject): Node | undefined {
  const segs = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let node = (segs.length ? doc.getIn(segs, true) : doc.contents) as Node | undefined;
  const extra = (err.params as { additionalProperty?: string; propertyName?: string }).additionalProperty ?? (err.params as { propertyName?: string }).propertyName;
  if (extra !== undefined && isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === extra) return item.key as Node;
    }
  }
  if (!node && segs.length) node = doc.getIn(segs.slice(0, -1), true) as Node | undefined;
  return node ?? (doc.contents as Node | undefined);
}

function describe(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  const field = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : 'suite file';
  switch (err.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(p.additionalProperty)}"${err.instancePath ? ` in ${field}` : ''}`;
    case 'required':
      return `${field}: missing "${String(p.missingProperty)}"`;
    case 'type':
      return `${field}: must be ${String(p.type)}`;
    case 'minItems':
      return `${field}: must list at least ${String(p.limit)}`;
    case 'pattern':
      return `${field}: ${err.message ?? 'bad value'}`;
    default:
      return `${field}: ${err.message ?? err.keyword}`;
  }
}

/** Reads and validates a suite file; throws SuiteFileError naming file:line:col. */
export function loadSuite(file: string): SuiteConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    const st = fs.statSync(abs);
    if (st.size > MAX_BYTES) throw new SuiteFileError('AIRLOCK_SUITE_TOO_LARGE', `${file}: ${st.size} bytes; config files over 1 MB are refused`);
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if (e instanceof SuiteFileError) throw e;
    throw new SuiteFileError('AIRLOCK_SUITE_READ', `${file}: cannot read suite file: ${(e as Error).message}`, { cause: e });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = at(file, lc, e.pos[0]);
    throw new SuiteFileError('AIRLOCK_SUITE_SYNTAX', `${where(pos)}: ${e.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    // yaml throws a ReferenceError for an alias to an anchor not (yet) set, and for a file whose
    // aliases expand more than maxAliasCount times (a "billion laughs" file).
    data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new SuiteFileError('AIRLOCK_SUITE_SYNTAX', `${file}: YAML: ${(e as Error).message}`, { cause: e });
  }
  const v = validate();
  if (!v(data)) {
    const errs = (v.errors ?? []).filter((er) => er.keyword !== 'if');
    const lines = errs.slice(0, 5).map((er) => {
      const n = nodeFor(doc, er);
      const pos = at(file, lc, n?.range?.[0] ?? 0);
      return `${where(pos)}: ${describe(er)}`;
    });
    throw new SuiteFileError('AIRLOCK_SUITE_SCHEMA', lines.join('\n'));
  }
  const raw = data as RawSuite;
  const dir = path.dirname(abs);
  const scenarios: SuiteEntry[] = raw.scenarios.map((s, i) => {
    const node = doc.getIn(['scenarios', i, 'scenario'], true) as Node | undefined;
    const pos = at(file, lc, node?.range?.[0] ?? 0);
    const scenario = path.resolve(dir, s.scenario);
    if (!fs.existsSync(scenario)) throw new SuiteFileError('AIRLOCK_SUITE_SCENARIO', `${where(pos)}: no such scenario file: ${s.scenario}`);
    const set: Record<string, string> = {};
    for (const [k, val] of Object.entries(s.set ?? {})) set[k] = String(val);
    return { scenario, set, pos };
  });
  let rig: string | undefined;
  if (raw.rig !== undefined) {
    rig = path.resolve(dir, raw.rig);
    if (!fs.existsSync(rig)) {
      const node = doc.getIn(['rig'], true) as Node | undefined;
      throw new SuiteFileError('AIRLOCK_SUITE_SCENARIO', `${where(at(file, lc, node?.range?.[0] ?? 0))}: no such rig file: ${raw.rig}`);
    }
  }
  return {
    file: abs,
    name: raw.suite,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    ...(rig !== undefined ? { rig } : {}),
    firmware: { ...(raw.firmware ?? {}) },
    scenarios,
  };
}
