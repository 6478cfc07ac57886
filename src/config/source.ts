/**
 * Reading a config file: size and encoding checks before parsing, YAML parsing with a
 * LineCounter, and conversion to plain data with the source position of every key and value,
 * indexed by JSON pointer (the same pointers ajv reports), so every later error can name
 * file:line:col.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, isAlias, type Alias, type YAMLMap, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { CONFIG_CODES, ConfigError, type ConfigIssue } from './errors.js';
import type { SourcePos } from './types.js';

/** Config files larger than this are refused before parsing (docs/technician/scenarios-and-rigs.md). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * Upper bound on nodes visited while expanding aliases (a "billion laughs" file stays cheap).
 * The largest shipped file has a few hundred nodes; 100,000 let a bomb cost a second of CPU.
 */
const MAX_NODES = 20_000;
/**
 * Deepest nesting accepted. Rig, scenario and suite files nest under ten levels; without a bound
 * a hostile file (thousands of nested lists, or an alias that contains itself) overflowed the
 * stack and ended in an internal error instead of a message.
 */
const MAX_DEPTH = 64;

export type Seg = string | number;

export function pointer(path: readonly Seg[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function parsePointer(p: string): Seg[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

/** `phases[1].steps[0].power.channel`; odd keys quoted: `actions["app: background"]`. */
export function formatPath(path: readonly Seg[]): string {
  let out = '';
  for (const s of path) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += (out ? '.' : '') + s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** Positions of every value and every mapping key, by JSON pointer. */
export class PosIndex {
  readonly values = new Map<string, SourcePos>();
  readonly keys = new Map<string, SourcePos>();
  constructor(readonly file: string) {}

  /** Where a value is; falls back to the nearest enclosing value (a missing key points at its mapping). */
  at(path: readonly Seg[]): SourcePos {
    for (let n = path.length; n >= 0; n--) {
      const p = this.values.get(pointer(path.slice(0, n)));
      if (p) return p;
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** Where a key is written (for unknown keys); falls back to the value's position. */
  keyAt(path: readonly Seg[]): SourcePos {
    return this.keys.get(pointer(path)) ?? this.at(path);
  }
}

export interface ConfigSource {
  /** The file name as given (used in messages). */
  file: string;
  /** Absolute path. */
  absFile: string;
  text: string;
  /** The document as plain data (mappings → objects, sequences → arrays, scalars). */
  data: unknown;
  index: PosIndex;
}

function fileIssue(file: string, message: string): ConfigIssue {
  return { file, line: 0, col: 0, path: '', message };
}

function lineColOfByte(buf: Buffer, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (buf[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  // Column in characters: count UTF-8 lead bytes between line start and offset.
  let col = 1;
  for (let i = start; i < offset; i++) if ((buf[i]! & 0xc0) !== 0x80) col++;
  return { line, col };
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let n: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Reads at most MAX_CONFIG_BYTES + 1 bytes, refusing missing, special, large and binary files. */
export function readConfigText(file: string): { text: string; absFile: string } {
  const absFile = resolve(file);
  let st;
  try {
    st = statSync(absFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConfigError(CONFIG_CODES.notFound, [fileIssue(file, 'no such file')]);
    throw new ConfigError(CONFIG_CODES.unreadable, [fileIssue(file, `cannot read the file (${code ?? String(e)})`)]);
  }
  if (st.isDirectory()) throw new ConfigError(CONFIG_CODES.unreadable, [fileIssue(file, 'is a directory, not a file')]);
  if (!st.isFile()) throw new ConfigError(CONFIG_CODES.unreadable, [fileIssue(file, 'is not a regular file')]);
  const tooLarge = (size: number) =>
    new ConfigError(CONFIG_CODES.tooLarge, [
      fileIssue(file, `file is ${size} bytes; config files larger than 1 MiB (${MAX_CONFIG_BYTES} bytes) are refused`),
    ]);
  if (st.size > MAX_CONFIG_BYTES) throw tooLarge(st.size);
  let buf: Buffer;
  let fd: number;
  try {
    fd = openSync(absFile, 'r');
  } catch (e) {
    throw new ConfigError(CONFIG_CODES.unreadable, [fileIssue(file, `cannot open the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`)]);
  }
  try {
    // The file may grow between stat and read: never read more than the limit + 1.
    buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_CONFIG_BYTES) throw tooLarge(Math.max(n, fstatSync(fd).size));
    }
    buf = buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
  const nul = buf.indexOf(0);
  const bad = nul >= 0 ? nul : firstInvalidUtf8(buf);
  if (bad >= 0) {
    const { line, col } = lineColOfByte(buf, bad);
    const why = nul >= 0 ? 'a NUL byte' : 'a byte that is not UTF-8';
    throw new ConfigError(CONFIG_CODES.binary, [
      { file, line, col, path: '', message: `this looks like a binary file, not YAML text (${why} at offset ${bad})` },
    ]);
  }
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, absFile };
}

/** Parses YAML text; syntax errors and empty documents throw a ConfigError with positions. */
export function parseConfigText(file: string, absFile: string, text: string): ConfigSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const posOf = (offset: number): SourcePos => {
    const lp = lineCounter.linePos(offset);
    return { file, line: lp.line, col: lp.col };
  };
  // One syntax error tends to cascade into one per token after it: keep the first of each line.
  const lines = text.split('\n');
  const seenLines = new Set<number>();
  const syntax: ConfigIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const p = posOf(e.pos[0]);
    if (seenLines.has(p.line)) continue;
    seenLines.add(p.line);
    let message = `YAML: ${e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '')}`;
    const src = lines[p.line - 1] ?? '';
    if (/\$\{/.test(src) && /[{[]/.test(src.replace(/\$\{[^}]*\}/g, ''))) {
      message += ' (inside { } or [ ], a parameter must be quoted: write "${name}")';
    }
    syntax.push({ file, line: p.line, col: p.col, path: '', message });
  }
  if (syntax.length > 0) throw new ConfigError(CONFIG_CODES.syntax, syntax);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && text.trim() === '')) {
    throw new ConfigError(CONFIG_CODES.empty, [{ file, line: 1, col: 1, path: '', message: 'the file is empty' }]);
  }
  const index = new PosIndex(file);
  const data = toPlain(doc, doc.contents, [], index, posOf);
  return { file, absFile, text, data, index };
}

export function loadConfigSource(file: string): ConfigSource {
  const { text, absFile } = readConfigText(file);
  return parseConfigText(file, absFile, text);
}

function toPlain(
  doc: Document,
  root: Node,
  rootPath: Seg[],
  index: PosIndex,
  posOf: (offset: number) => SourcePos,
): unknown {
  let visited = 0;
  const resolved = new Map<object, ReturnType<Alias['resolve']>>();
  // The mappings and lists being walked, from the root down to the current node.
  const open = new Set<unknown>();
  const walk = (node: unknown, path: Seg[], fallback: SourcePos): unknown => {
    if (++visited > MAX_NODES) {
      throw new ConfigError(CONFIG_CODES.invalid, [
        { ...fallback, path: formatPath(path), message: `the document expands to more than ${MAX_NODES} nodes (alias loop or alias bomb?)` },
      ]);
    }
    if (path.length - rootPath.length > MAX_DEPTH) {
      throw new ConfigError(CONFIG_CODES.invalid, [{ ...fallback, path: formatPath(path.slice(0, rootPath.length + 8)), message: `nested deeper than ${MAX_DEPTH} levels` }]);
    }
    if (isAlias(node)) {
      // Alias.resolve searches the whole document: once per alias node, not once per use.
      let target = resolved.get(node);
      if (!resolved.has(node)) {
        target = node.resolve(doc);
        resolved.set(node, target);
      }
      const here = node.range ? posOf(node.range[0]) : fallback;
      index.values.set(pointer(path), here);
      if (!target) return null;
      if (open.has(target)) {
        throw new ConfigError(CONFIG_CODES.invalid, [{ ...here, path: formatPath(path), message: `the alias *${node.source} refers to a value that contains it (an alias loop)` }]);
      }
      // Positions inside an alias point at the anchored original.
      return walk(target, path, here);
    }
    const nodeRange = (node as { range?: [number, number, number] | null } | null)?.range;
    let here = fallback;
    // An empty value (`key:`) has a zero-width range at the next token: point at the key instead.
    if (nodeRange && !(isScalar(node) && node.value === null && node.source === '')) here = posOf(nodeRange[0]);
    if (!index.values.has(pointer(path))) index.values.set(pointer(path), here);
    if (isMap(node) || isSeq(node)) {
      open.add(node);
      try {
        return isMap(node) ? mapToPlain(node, path, here) : node.items.map((item, i) => walk(item, [...path, i], here));
      } finally {
        open.delete(node);
      }
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'bigint') return Number(v);
      return v;
    }
    return node === null || node === undefined ? null : String(node);
  };
  const mapToPlain = (node: YAMLMap, path: Seg[], here: SourcePos): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = pair.key;
      let key: string;
      if (k === null || k === undefined) key = '';
      else if (isScalar(k)) key = k.value === null ? '' : String(k.value);
      else {
        const kp = (k as { range?: [number, number, number] }).range;
        throw new ConfigError(CONFIG_CODES.invalid, [
          { ...(kp ? posOf(kp[0]) : here), path: formatPath(path), message: 'a key must be a plain word, not a list or mapping' },
        ]);
      }
      const keyPath = [...path, key];
      const kr = isScalar(k) ? k.range : undefined;
      const keyPos = kr ? posOf(kr[0]) : here;
      index.keys.set(pointer(keyPath), keyPos);
      Object.defineProperty(out, key, {
        value: walk(pair.value, keyPath, keyPos),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return walk(root, rootPath, { file: index.file, line: 1, col: 1 });
}
