/**
 * JSON Schema validation with the files in schema/ (the same ones editors use through
 * `# yaml-language-server: $schema=...`), and translation of ajv's errors into one plain
 * message per problem at the right line and column.
 *
 * Unit-valued fields are checked by units.ts during conversion (better messages: "has no unit",
 * "cannot be negative"), so ajv errors inside the unit definitions are dropped here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { ConfigIssue } from './errors.js';
import { formatPath, parsePointer, type PosIndex, type Seg } from './source.js';

export type SchemaKind = 'rig' | 'scenario' | 'controls';

const UNIT_DEFS = ['duration', 'current', 'voltage', 'frequency', 'size', 'threshold', 'dbm'];
const isUnitError = (e: ErrorObject) => UNIT_DEFS.some((d) => e.schemaPath.startsWith(`#/definitions/${d}/`));

/** Where the schema files are: `<package>/schema/`, found upwards from src/config (tsx) or dist/... alike. */
export function schemaPath(kind: SchemaKind): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'schema', `${kind}.schema.json`);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`schema/${kind}.schema.json not found above ${fileURLToPath(import.meta.url)} (a broken installation)`);
}

const compiled = new Map<SchemaKind, ValidateFunction>();
const roots = new Map<SchemaKind, Record<string, unknown>>();

function root(kind: SchemaKind): Record<string, unknown> {
  let r = roots.get(kind);
  if (!r) {
    r = JSON.parse(readFileSync(schemaPath(kind), 'utf8')) as Record<string, unknown>;
    roots.set(kind, r);
  }
  return r;
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** JSON types a schema branch accepts ('integer' data also matches 'number'). */
function branchTypes(b: Record<string, unknown>, rootSchema: Record<string, unknown>): string[] {
  if (typeof b.$ref === 'string') {
    const def = (rootSchema.definitions as Record<string, Record<string, unknown>>)[b.$ref.split('/').pop()!];
    return def ? branchTypes(def, rootSchema) : [];
  }
  let types: string[] = [];
  if (b.type !== undefined) types = Array.isArray(b.type) ? b.type.map(String) : [String(b.type)];
  else if (Array.isArray(b.enum)) types = [...new Set(b.enum.map(jsonType))];
  if (types.includes('number')) types.push('integer');
  return types;
}

function validator(kind: SchemaKind): ValidateFunction {
  let v = compiled.get(kind);
  if (!v) {
    const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
    const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({
      allErrors: true,
      strict: true,
      verbose: true,
      allowUnionTypes: true,
    });
    v = ajv.compile(root(kind));
    compiled.set(kind, v);
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'nothing',
};

function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(' or ');
}

function describeBranch(s: unknown): string {
  const o = (s ?? {}) as Record<string, unknown>;
  if (Array.isArray(o.enum)) return o.enum.join(', ');
  if (typeof o.$ref === 'string') return `a ${o.$ref.split('/').pop()}`;
  if (o.type === 'array') return 'a list';
  if (o.type === 'object') return 'a mapping';
  if (o.type) return typeWords(o.type);
  return 'something else';
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function didYouMean(word: string, options: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const dd = distance(word.toLowerCase(), o.toLowerCase());
    if (dd < bestD) [best, bestD] = [o, dd];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? `did you mean "${best}"? ` : '';
}

/** What an item of this list is called, from its path: a step, an assertion, or a key. */
function itemNoun(path: Seg[]): 'step' | 'assertion' | undefined {
  const parent = path[path.length - 2];
  if (typeof path[path.length - 1] !== 'number') return undefined;
  if (parent === 'steps') return 'step';
  if (parent === 'assert') return 'assertion';
  return undefined;
}

function translate(e: ErrorObject, index: PosIndex): ConfigIssue {
  const path = parsePointer(e.instancePath);
  let at = index.at(path);
  let where = path;
  let message: string;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      where = [...path, key];
      at = index.keyAt(where);
      const allowed = Object.keys(((e.parentSchema ?? {}) as { properties?: object }).properties ?? {});
      const noun = itemNoun(path);
      const kind = noun ? `unknown ${noun} kind` : 'unknown key';
      message = `${kind} "${key}" (${didYouMean(key, allowed)}${allowed.length ? `expected one of: ${allowed.join(', ')}` : 'no keys are allowed here'})`;
      break;
    }
    case 'required':
      message = `missing required key "${String(params.missingProperty)}"`;
      break;
    case 'type':
      message = `expected ${typeWords(params.type)}, got ${describe(e.data)}`;
      break;
    case 'enum':
      message = `expected one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}; got ${describe(e.data)}`;
      break;
    case 'pattern':
      if (e.schemaPath.startsWith('#/definitions/paramRef/')) {
        message = `expected a number, got ${describe(e.data)}`;
      } else if (e.schemaPath.startsWith('#/definitions/name/')) {
        message = `${describe(e.data)} is not a valid name (use letters, digits, '.', '_' and '-', starting with a letter or digit)`;
      } else if (path[path.length - 1] === 'endpoint') {
        message = `${describe(e.data)} is not a link endpoint (write serial:PATH:BAUD, udp:HOST:PORT, udpout:HOST:PORT or tcp:HOST:PORT)`;
      } else {
        message = `${describe(e.data)} does not match the pattern ${String(params.pattern)}`;
      }
      break;
    case 'propertyNames': {
      const key = String(params.propertyName);
      where = [...path, key];
      at = index.keyAt(where);
      message = path[0] === 'params'
        ? `"${key}" is not a valid parameter name (letters, digits and '_', not starting with a digit)`
        : `"${key}" is not a valid name (use letters, digits, '.', '_' and '-', starting with a letter or digit)`;
      break;
    }
    case 'minProperties': {
      const noun = itemNoun(path);
      message = noun
        ? `an empty ${noun}: a ${noun} has exactly one key naming its kind`
        : Number(params.limit) === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} keys`;
      break;
    }
    case 'maxProperties': {
      const noun = itemNoun(path);
      const keys = Object.keys((e.data ?? {}) as object);
      message = noun
        ? `a ${noun} has exactly one key, found ${keys.length}: ${keys.join(', ')} (write each as its own list item)`
        : `must have at most ${String(params.limit)} key(s)`;
      break;
    }
    case 'minItems':
      message = Number(params.limit) === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} items`;
      break;
    case 'minLength':
      message = 'must not be empty';
      break;
    case 'minimum':
    case 'maximum':
      message = `${describe(e.data)} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}`;
      break;
    case 'anyOf':
    case 'oneOf': {
      const branches = (e.schema as unknown[]) ?? [];
      message = `expected ${branches.map(describeBranch).join(', or ')}; got ${describe(e.data)}`;
      break;
    }
    case 'not':
      // The only `not` in the schemas: a control mapping's observed text (schema/controls.schema.json).
      message = e.schemaPath.startsWith('#/definitions/observation/')
        ? `${describe(e.data)} claims compliance, certification or what the product cannot do (complies, compliant, cannot send, certify, guarantee): say what was tested and observed`
        : (e.message ?? 'fails not');
      break;
    default:
      message = e.message ?? `fails ${e.keyword}`;
  }
  return { file: at.file, line: at.line, col: at.col, path: formatPath(where), message };
}

/** Validates plain data against a schema; returns one issue per problem (unit fields excluded). */
export function schemaIssues(kind: SchemaKind, data: unknown, index: PosIndex): ConfigIssue[] {
  const v = validator(kind);
  if (v(data)) return [];
  const errors = v.errors ?? [];
  // anyOf/oneOf: the branch whose JSON type matches the data is the one the author meant: keep
  // its errors and drop the others'. When no branch has the data's type, one message for the
  // alternative, unless a branch is a unit (units.ts then says what a unit value must look like).
  const dropped = new Set<ErrorObject>();
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    const prefix = e.schemaPath + '/';
    const branches = (e.schema as Array<Record<string, unknown>>) ?? [];
    const dataType = jsonType(e.data);
    const matching = branches.map((b, i) => (branchTypes(b, root(kind)).includes(dataType) ? i : -1)).filter((i) => i >= 0);
    const inBranch = (x: ErrorObject, i: number) =>
      x.schemaPath.startsWith(`${prefix}${i}/`) ||
      (typeof branches[i]!.$ref === 'string' && x.instancePath === e.instancePath && x.schemaPath.startsWith(`${String(branches[i]!.$ref)}/`));
    dropped.add(e);
    if (matching.length === 1) {
      for (const x of errors) if (branches.some((_, i) => i !== matching[0] && inBranch(x, i))) dropped.add(x);
      continue;
    }
    for (const x of errors) if (branches.some((_, i) => inBranch(x, i))) dropped.add(x);
    const unitBranch = branches.some((b) => typeof b.$ref === 'string' && UNIT_DEFS.some((d) => b.$ref === `#/definitions/${d}`));
    if (!unitBranch) dropped.delete(e);
  }
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e) || isUnitError(e)) continue;
    if (e.keyword === 'if') continue;
    // A key name failing its pattern is reported once, by the propertyNames error at the key.
    if (e.keyword !== 'propertyNames' && (e as { propertyName?: string }).propertyName !== undefined) continue;
    const issue = translate(e, index);
    const k = `${issue.line}:${issue.col}:${issue.path}:${issue.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(issue);
    }
  }
  return issues;
}
