/**
 * Evidence bundles: a run directory as a deterministic tar.gz (the same directory always gives the
 * same bytes), and the careful unpacking verify needs for archives from anywhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { BundleInputError } from './errors.js';
import { hashFile, MANIFEST_FILE, walkRunDir } from './manifest.js';

/** Fixed metadata of every entry: 2000-01-01T00:00:00Z, files 0644, directories 0755, no owner. */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

export interface BundleInfo {
  file: string;
  sha256: string;
  size: number;
  entries: string[];
}

/**
 * Writes `<runDir basename>/...` into a gzip'd ustar/pax archive: entries sorted, mtime, mode and
 * ownership fixed, gzip header without name or time (tar's `portable`). Refuses an existing `outFile`.
 */
export async function createBundle(runDir: string, outFile: string): Promise<BundleInfo> {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_NO_INPUT', `not a run directory: ${runDir}`);
  }
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_NO_MANIFEST', `${runDir} has no ${MANIFEST_FILE}: the run was not sealed, so a bundle of it could not be verified`);
  }
  const out = path.resolve(outFile);
  if (fs.existsSync(out)) throw new BundleInputError('AIRLOCK_EVIDENCE_OUT_EXISTS', `${outFile} exists; refusing to overwrite`);
  const base = path.basename(dir);
  const entries = walkRunDir(dir);
  const odd = entries.filter((e) => e.type === 'other').map((e) => e.name);
  if (odd.length) throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `not regular files, refusing to bundle: ${odd.join(', ')}`);
  const names = [base, ...entries.map((e) => `${base}/${e.name}`)];
  const partial = `${out}.partial-${process.pid}`;
  try {
    await tar.c(
      {
        file: partial,
        cwd: path.dirname(dir),
        gzip: { level: 6 }, // zlib's default; level 9 took 3.6x as long on a 232 MB pcap here, for the same size
        portable: true,
        noDirRecurse: true,
        mtime: FIXED_MTIME,
        onWriteEntry: (entry) => {
          const st = entry.stat as fs.Stats | undefined;
          if (st) st.mode = (st.mode & ~0o7777) | (st.isDirectory() ? 0o755 : 0o644);
        },
      },
      names,
    );
    fs.linkSync(partial, out); // fails if out appeared meanwhile: never overwrite
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return { file: out, ...hashFile(out), entries: names };
}

/** True when the file starts with the gzip magic bytes. */
export function isGzipFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

function entryProblem(p: string, type: string): string | undefined {
  if (type !== 'File' && type !== 'OldFile' && type !== 'Directory') return `${p}: ${type} entries are not allowed`;
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('\\')) return `${p}: absolute path`;
  if (p.split('/').includes('..')) return `${p}: '..' in path`;
  if (p.includes('\0')) return `${p}: NUL in path`;
  return undefined;
}

/**
 * Unpacks a bundle into `destDir` (which must be empty) after listing it: absolute paths, `..`,
 * links and device entries are refused (hostile input). Returns the run directory inside.
 */
/** More entries than any run directory holds: a bundle is refused rather than unpacked. */
const MAX_BUNDLE_ENTRIES = 100_000;
/** Space left free on the disk a bundle unpacks to. */
const UNPACK_FREE_MARGIN = 16 * 1024 * 1024;

export async function unpackBundle(file: string, destDir: string): Promise<string> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const tops = new Set<string>();
  let entries = 0;
  let bytes = 0;
  try {
    await tar.t({
      file,
      strict: true,
      onwarn: (_code, msg) => void warnings.push(String(msg)),
      onReadEntry: (e) => {
        entries++;
        bytes += e.size ?? 0;
        const bad = entryProblem(e.path, e.type);
        if (bad) problems.push(bad);
        tops.add(e.path.replace(/^\.\//, '').split('/')[0] ?? '');
      },
    });
  } catch (e) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${file} is not a readable tar.gz: ${(e as Error).message}`, { cause: e });
  }
  if (warnings.length) throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${file}: ${warnings.join('; ')}`);
  if (problems.length) throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${file} is refused (hostile entries): ${problems.join('; ')}`);
  // A hostile archive may be a bomb (a small gzip that expands to fill the disk): the sizes its
  // headers declare are what extraction writes, so refuse before writing anything.
  if (entries > MAX_BUNDLE_ENTRIES) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${file} is refused: ${entries} entries, more than a run directory holds (limit ${MAX_BUNDLE_ENTRIES})`);
  }
  fs.mkdirSync(destDir, { recursive: true });
  const fsStat = fs.statfsSync(destDir);
  const free = fsStat.bavail * fsStat.bsize;
  if (bytes > free - UNPACK_FREE_MARGIN) {
    throw new BundleInputError(
      'AIRLOCK_EVIDENCE_BAD_BUNDLE',
      `${file} is refused: it unpacks to ${bytes} bytes, more than the ${Math.max(0, free)} bytes free at ${destDir} (keeping ${UNPACK_FREE_MARGIN} bytes spare)`,
    );
  }
  await tar.x({
    file,
    cwd: destDir,
    strict: true,
    preserveOwner: false,
    filter: (p, e) => entryProblem(p, (e as tar.ReadEntry).type) === undefined,
  });
  if (fs.existsSync(path.join(destDir, MANIFEST_FILE))) return destDir;
  tops.delete('');
  tops.delete('.');
  if (tops.size === 1) {
    const d = path.join(destDir, [...tops][0]!);
    if (fs.statSync(d).isDirectory()) return d;
  }
  throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${file} holds no single run directory (top-level entries: ${[...tops].join(', ') || 'none'})`);
}
