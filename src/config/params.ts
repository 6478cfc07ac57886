/**
 * Scenario parameters: `params:` holds defaults, `--set NAME=VALUE` overrides them, and
 * `${NAME}` inside any scalar string is replaced before units are parsed. An undeclared name,
 * in the file or in --set, is an error: a typo must never silently keep a default.
 */
import type { ConfigIssue } from './errors.js';
import { isObj } from './reader.js';
import { didYouMean } from './schema.js';
import { formatPath, type ConfigSource, type Seg } from './source.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC = /^-?(\d+(\.\d+)?|\.\d+)$/;

export interface ParamResult {
  /** Values in effect. */
  params: Record<string, string>;
  /** Formatted key path → how its value was made, appended to any error at that path. */
  notes: Map<string, string>;
  issues: ConfigIssue[];
}

/** Replaces `${name}` in src.data (in place, except under `params`) and returns the values used. */
export function substituteParams(src: ConfigSource, set: Record<string, string> = {}): ParamResult {
  const issues: ConfigIssue[] = [];
  const notes = new Map<string, string>();
  const fail = (path: Seg[], message: string) => {
    const p = src.index.at(path);
    issues.push({ file: p.file, line: p.line, col: p.col, path: formatPath(path), message });
  };
  const data = src.data;
  const declared: Record<string, string> = {};
  const origin: Record<string, string> = {};
  if (isObj(data) && isObj(data.params)) {
    for (const [k, v] of Object.entries(data.params)) {
      if (typeof v !== 'string' && typeof v !== 'number') continue; // the schema reports it
      const s = String(v);
      if (s.includes('${')) fail(['params', k], 'a parameter default cannot use another parameter');
      declared[k] = s;
      origin[k] = 'its default';
    }
  }
  const names = Object.keys(declared);
  const declaredList = names.length ? `the scenario declares: ${names.join(', ')}` : 'the scenario declares no params';
  for (const [k, v] of Object.entries(set)) {
    if (!Object.hasOwn(declared, k)) {
      issues.push({ file: src.file, line: 0, col: 0, path: `--set ${k}`, message: `unknown parameter "${k}" (${didYouMean(k, names)}${declaredList})` });
      continue;
    }
    declared[k] = String(v);
    origin[k] = '--set';
  }

  const substitute = (s: string, path: Seg[]): unknown => {
    if (!s.includes('${')) return s;
    const used: string[] = [];
    let bad = false;
    // `$${x}` is a literal `${x}` (for shell commands and prompts that need one).
    if (/(^|[^$])\$\{[^}]*$/.test(s)) {
      fail(path, `unclosed parameter reference in ${JSON.stringify(s)} (write \${name})`);
      return s;
    }
    const out = s.replace(/\$?\$\{([^}]*)\}/g, (m: string, rawName: string) => {
      if (m.startsWith('$$')) return m.slice(1);
      const name = rawName.trim();
      if (!NAME.test(name)) {
        fail(path, `"\${${rawName}}" is not a parameter reference (write \${name} with letters, digits and _)`);
        bad = true;
        return '';
      }
      if (!Object.hasOwn(declared, name)) {
        fail(path, `unknown parameter "\${${name}}" (${didYouMean(name, names)}${declaredList})`);
        bad = true;
        return '';
      }
      used.push(`\${${name}} = ${JSON.stringify(declared[name])} from ${origin[name]}`);
      return declared[name]!;
    });
    if (bad) return s;
    if (used.length > 0) notes.set(formatPath(path), `(after ${used.join(', ')})`);
    // `retries: ${n}` with n = 3 becomes the number 3, as if it had been written.
    if (/^\$\{[^}]*\}$/.test(s.trim()) && NUMERIC.test(out.trim())) return Number(out);
    return out;
  };

  const walk = (v: unknown, path: Seg[]): unknown => {
    if (typeof v === 'string') return substitute(v, path);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i], [...path, i]);
      return v;
    }
    if (isObj(v)) {
      for (const k of Object.keys(v)) {
        if (path.length === 0 && k === 'params') continue;
        v[k] = walk(v[k], [...path, k]);
      }
    }
    return v;
  };
  src.data = walk(data, []);
  return { params: declared, notes, issues };
}
