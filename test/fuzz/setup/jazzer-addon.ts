/**
 * Makes the fuzzer's native addon load on this host, once, before `npm run fuzz` fuzzes.
 *
 * @jazzer.js/fuzzer ships prebuilt addons only (its npm package has no sources, and building
 * them fetches an LLVM fork from GitHub). The Linux one was built with GCC 13 against glibc
 * 2.38 and imports three functions that Debian 12 (glibc 2.36, GCC 12's libstdc++) does not
 * have: __isoc23_strtol, __isoc23_strtoul and std::ios_base_library_init(). Everything else it
 * imports exists here. So, when the shipped addon does not load:
 *
 *  1. read the addon's ELF version tables and check that those three functions are the only
 *     imports under the versions the host lacks (anything more is refused with the loader's
 *     message: we provide what is missing, we do not guess);
 *  2. build test/fuzz/setup/host-compat.cc, which implements the three as their runtimes define
 *     them, into prebuilds/libairlock-host-compat.so beside the addon;
 *  3. in a copy of the addon (a new file: node_modules may be hard-linked between checkouts),
 *     drop the version from those three imports, add the library as a dependency found
 *     through $ORIGIN (patchelf, a Debian package), and mark the two version requirements
 *     weak so the loader does not refuse the file for naming a version it lacks;
 *  4. load the copy in a child process, and only then put it in place; the shipped file is
 *     kept as fuzzer-linux-x64.node.shipped. `npm ci` restores the shipped file and the next
 *     `npm run fuzz` does this again.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The imports host-compat.cc provides, by the version the addon asks for them under. */
const PROVIDED: Record<string, string[]> = {
  'GLIBC_2.38': ['__isoc23_strtol', '__isoc23_strtoul'],
  'GLIBCXX_3.4.32': ['_ZSt21ios_base_library_initv'],
};
const COMPAT_LIB = 'libairlock-host-compat.so';
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;

export class FuzzSetupError extends Error {
  readonly code = 'AIRLOCK_FUZZ_SETUP';
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

interface VersionNeed {
  file: string;
  version: string;
  index: number;
  /** Byte offset of the Elf64_Vernaux entry, whose vna_flags sit at +4. */
  auxOffset: number;
}

/** The version requirements of an ELF64 little-endian shared object and its imports under each. */
export function readVersionNeeds(elf: Buffer): { needs: VersionNeed[]; imports: Map<number, string[]> } {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) {
    throw new FuzzSetupError('the fuzzer addon is not a 64-bit little-endian ELF file');
  }
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: elf.readUInt32LE(o + 4),
      offset: Number(elf.readBigUInt64LE(o + 0x18)),
      size: Number(elf.readBigUInt64LE(o + 0x20)),
      link: elf.readUInt32LE(o + 0x28),
      info: elf.readUInt32LE(o + 0x2c),
      entsize: Number(elf.readBigUInt64LE(o + 0x38)),
    });
  }
  const str = (table: Section, at: number) => {
    const start = table.offset + at;
    return elf.toString('latin1', start, elf.indexOf(0, start));
  };
  const needs: VersionNeed[] = [];
  for (const s of sections.filter((x) => x.type === SHT_GNU_VERNEED)) {
    const strings = sections[s.link]!;
    let vn = s.offset;
    for (let n = 0; n < s.info; n++) {
      const file = str(strings, elf.readUInt32LE(vn + 4));
      let aux = vn + elf.readUInt32LE(vn + 8);
      for (let a = 0; a < elf.readUInt16LE(vn + 2); a++) {
        needs.push({ file, version: str(strings, elf.readUInt32LE(aux + 8)), index: elf.readUInt16LE(aux + 6), auxOffset: aux });
        aux += elf.readUInt32LE(aux + 12);
      }
      vn += elf.readUInt32LE(vn + 12);
    }
  }
  const imports = new Map<number, string[]>();
  const dynsym = sections.find((x) => x.type === SHT_DYNSYM);
  const versym = sections.find((x) => x.type === SHT_GNU_VERSYM);
  if (dynsym && versym) {
    const strings = sections[dynsym.link]!;
    for (let i = 0; i < dynsym.size / dynsym.entsize; i++) {
      const o = dynsym.offset + i * dynsym.entsize;
      if (elf.readUInt16LE(o + 6) !== 0) continue; // defined here, not an import
      const index = elf.readUInt16LE(versym.offset + 2 * i) & 0x7fff;
      const list = imports.get(index) ?? [];
      list.push(str(strings, elf.readUInt32LE(o)));
      imports.set(index, list);
    }
  }
  return { needs, imports };
}

function loadError(file: string): string | null {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const line = /Error: (.*)/.exec(r.stderr);
  return line ? line[1]! : r.stderr.trim() || `exit ${r.status}`;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim();
    throw new FuzzSetupError(`${cmd} ${args.join(' ')} failed: ${why} (install the Debian packages patchelf and g++)`);
  }
}

/** The addon file that @jazzer.js/fuzzer loads on this platform. */
export function jazzerAddonPath(): string {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
  return path.join(dir, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

/** Returns what was done ('loads' or 'adapted'); throws FuzzSetupError with the reason otherwise. */
export function ensureJazzerAddon(log: (line: string) => void = () => undefined): 'loads' | 'adapted' {
  const addon = jazzerAddonPath();
  const first = loadError(addon);
  if (first === null) return 'loads';
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new FuzzSetupError(`the fuzzer addon does not load: ${first}`);
  }
  const shipped = `${addon}.shipped`;
  const source = fs.existsSync(shipped) ? shipped : addon;
  const { needs, imports } = readVersionNeeds(fs.readFileSync(source));
  const lacking = needs.filter((n) => PROVIDED[n.version]);
  for (const need of lacking) {
    const extra = (imports.get(need.index) ?? []).filter((sym) => !PROVIDED[need.version]!.includes(sym));
    if (extra.length) {
      throw new FuzzSetupError(`the fuzzer addon needs ${need.version} for ${extra.join(', ')}, which this host lacks: ${first}`);
    }
  }
  log(`the shipped fuzzer addon does not load (${first}); adapting a copy to this host`);

  const dir = path.dirname(addon);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const lib = path.join(dir, COMPAT_LIB);
  run('g++', ['-O2', '-shared', '-fPIC', '-o', `${lib}.tmp`, path.join(here, 'host-compat.cc')]);
  fs.renameSync(`${lib}.tmp`, lib);

  const tmp = addon.replace(/\.node$/, '.adapting.node'); // require() loads a .node file as an addon
  fs.rmSync(tmp, { force: true });
  fs.copyFileSync(source, tmp);
  // One change per patchelf call: patchelf 0.14 (Debian 12) mixes up its string table edits
  // when --set-rpath and --add-needed come in the same call.
  for (const need of lacking) for (const sym of imports.get(need.index) ?? []) run('patchelf', ['--clear-symbol-version', sym, tmp]);
  run('patchelf', ['--add-needed', COMPAT_LIB, tmp]);
  run('patchelf', ['--set-rpath', '$ORIGIN', tmp]);
  const patched = fs.readFileSync(tmp);
  for (const need of readVersionNeeds(patched).needs) {
    if (PROVIDED[need.version]) patched.writeUInt16LE(patched.readUInt16LE(need.auxOffset + 4) | VER_FLG_WEAK, need.auxOffset + 4);
  }
  fs.writeFileSync(tmp, patched);

  const after = loadError(tmp);
  if (after !== null) {
    fs.rmSync(tmp, { force: true });
    throw new FuzzSetupError(`the adapted fuzzer addon does not load either: ${after}`);
  }
  if (source === addon) fs.renameSync(addon, shipped);
  fs.renameSync(tmp, addon);
  log(`fuzzer addon adapted: ${path.relative(process.cwd(), addon)} (shipped file kept as ${path.basename(shipped)})`);
  return 'adapted';
}
