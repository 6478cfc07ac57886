/**
 * manifest.json: every file of a run directory with its SHA-256 and size, the versions of what ran,
 * the host, the firmware under test, the times and the verdicts. Written last, after every capture
 * is closed; signed (signing.ts) as an in-toto statement in a DSSE envelope.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Verdict } from '../analysis/finding.js';
import type { PhaseVerdict } from './result.js';
import { RunDirectoryError } from './errors.js';
import { fingerprintOf, publicKeyFromPem, publicKeyPemOf } from './keys.js';
import type { FirmwareRecord, RunResult } from './result.js';
import { writeOnce } from './run-directory.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig.json';
/** The standard in-toto test-result attestation, signed like manifest.sig.json (test-result.ts). */
export const TEST_RESULT_FILE = 'test-result.sig.json';
export const MANIFEST_FORMAT = 'airlock-manifest/1';

export interface ManifestFile {
  /** Path relative to the run directory, `/`-separated. */
  name: string;
  sha256: string;
  size: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  runId: string;
  scenario: string;
  rig: string;
  startedAt?: string;
  endedAt?: string;
  /** When the manifest was written (after every capture was closed). */
  sealedAt: string;
  versions: {
    airlock: string;
    analyzer?: string;
    node: string;
    libpcap: string | null;
    /** Every installed package, `name` (or nested path) -> version, from package-lock.json or node_modules. */
    dependencies: Record<string, string>;
  };
  host: { hostname: string; os: string; platform: string; kernel: string; arch: string };
  firmware: FirmwareRecord[];
  verdict?: Verdict;
  exitCode?: number;
  complete?: boolean;
  fault?: RunResult['fault'];
  abort?: RunResult['abort'];
  phases: { name: string; verdict: PhaseVerdict; assertions: { kind: string; verdict: PhaseVerdict }[] }[];
  /** True when manifest.sig.json carries a signature by the key below. */
  signed: boolean;
  publicKeyFingerprint?: string;
  /** SPKI PEM of the signing key, so a bundle verifies on its own (a certifier pins it with --key). */
  publicKey?: string;
  /** Set when signed: the signed test-result attestation that must sit beside the manifest. */
  testResult?: typeof TEST_RESULT_FILE;
  files: ManifestFile[];
}

const CHUNK = 1 << 20;

/** SHA-256 (hex) and size of a file, read in chunks. */
export function hashFile(file: string): { sha256: string; size: number } {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: h.digest('hex'), size };
}

export interface DirEntry {
  name: string;
  /** `file` for regular files; anything else (symlink, fifo, device) is never evidence. */
  type: 'file' | 'dir' | 'other';
}

/** Every entry under dir, relative `/`-separated names, sorted by code unit; symlinks are not followed. */
export function walkRunDir(dir: string): DirEntry[] {
  const out: DirEntry[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? path.join(dir, rel) : dir;
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const name = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        out.push({ name, type: 'dir' });
        walk(name);
      } else out.push({ name, type: d.isFile() ? 'file' : 'other' });
    }
  };
  walk('');
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The files a manifest covers: every regular file except the manifest and its signature. */
export function evidenceFiles(dir: string): ManifestFile[] {
  return walkRunDir(dir)
    .filter((e) => e.type === 'file' && e.name !== MANIFEST_FILE && e.name !== SIGNATURE_FILE && e.name !== TEST_RESULT_FILE)
    .map((e) => ({ name: e.name, ...hashFile(path.join(dir, e.name)) }));
}

/** The folder holding Airlock's package.json (works from src/ under tsx and from dist/). */
export function packageRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(d, 'package.json');
    if (fs.existsSync(p)) {
      try {
        if ((JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string }).name === 'airlock') return d;
      } catch {
        /* an unreadable or unparsable package.json is not Airlock's: the search goes on up the tree */
      }
    }
    const up = path.dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Installed package versions: package-lock.json's `packages`, else node_modules' package.json files. */
export function dependencyVersions(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lock = readJson(path.join(root, 'package-lock.json')) as { packages?: Record<string, { version?: string }> } | undefined;
  if (lock?.packages) {
    for (const [key, v] of Object.entries(lock.packages)) {
      if (!key || !v.version) continue;
      out[key.replace(/^node_modules\//, '')] = v.version;
    }
    return out;
  }
  const nm = path.join(root, 'node_modules');
  const add = (dir: string, name: string): void => {
    const v = (readJson(path.join(dir, 'package.json')) as { version?: string } | undefined)?.version;
    if (v) out[name] = v;
  };
  for (const e of fs.existsSync(nm) ? fs.readdirSync(nm) : []) {
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) for (const s of fs.readdirSync(path.join(nm, e))) add(path.join(nm, e, s), `${e}/${s}`);
    else add(path.join(nm, e), e);
  }
  return out;
}

let libpcapVersion: string | null | undefined;
/** libpcap's own version string, from the pcap binding (null when the binding does not load). */
export function libpcapVersionString(): string | null {
  if (libpcapVersion === undefined) {
    try {
      const req = createRequire(import.meta.url);
      const v = (req('pcap') as { lib_version?: unknown }).lib_version;
      libpcapVersion = typeof v === 'string' ? v : null;
    } catch {
      libpcapVersion = null;
    }
  }
  return libpcapVersion;
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    /* not Linux, or no os-release */
  }
  return `${os.type()} ${os.release()}`;
}

export interface WriteManifestOptions {
  /** The run's signing key (PKCS8 PEM): recorded as its public key and fingerprint; signRun() signs. */
  signingKeyPem?: string;
  now?: Date;
}

/**
 * Hashes every file of the run directory and writes manifest.json (write-once). Call it last,
 * after every capture is closed and result.json and the reports are written.
 */
export function writeManifest(runDir: string, opts: WriteManifestOptions = {}): Manifest {
  const dir = path.resolve(runDir);
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new RunDirectoryError('AIRLOCK_EVIDENCE_EXISTS', `${path.join(dir, MANIFEST_FILE)} exists: a run directory is sealed once`);
  }
  const result = readJson(path.join(dir, 'result.json')) as Partial<RunResult> | undefined;
  const root = packageRoot();
  const pkg = readJson(path.join(root, 'package.json')) as { version?: string } | undefined;
  const publicKeyPem = opts.signingKeyPem ? publicKeyPemOf(opts.signingKeyPem) : undefined;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    runId: result?.runId ?? '',
    scenario: result?.scenario ?? '',
    rig: result?.rig ?? '',
    startedAt: result?.startedAt,
    endedAt: result?.endedAt,
    sealedAt: (opts.now ?? new Date()).toISOString(),
    versions: {
      airlock: pkg?.version ?? result?.airlockVersion ?? 'unknown',
      analyzer: result?.analyzerVersion,
      node: process.version,
      libpcap: libpcapVersionString(),
      dependencies: dependencyVersions(root),
    },
    host: { hostname: os.hostname(), os: osName(), platform: process.platform, kernel: `${os.release()} ${os.version()}`, arch: process.arch },
    firmware: result?.firmware ?? [],
    verdict: result?.verdict,
    exitCode: result?.exitCode,
    complete: result?.complete,
    fault: result?.fault,
    abort: result?.abort,
    phases: (result?.phases ?? []).map((p) => ({
      name: p.name,
      verdict: p.verdict,
      assertions: p.assertions.map((a) => ({ kind: a.kind, verdict: a.verdict })),
    })),
    signed: publicKeyPem !== undefined,
    publicKeyFingerprint: publicKeyPem ? fingerprintOf(publicKeyFromPem(publicKeyPem)) : undefined,
    publicKey: publicKeyPem,
    testResult: publicKeyPem ? TEST_RESULT_FILE : undefined,
    files: evidenceFiles(dir),
  };
  writeOnce(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export function readManifest(runDir: string): Manifest {
  const file = path.join(runDir, MANIFEST_FILE);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
}
