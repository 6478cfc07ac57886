/**
 * test/fuzz/setup/host-compat.cc: the three runtime functions the fuzzer's prebuilt addon needs on
 * Debian 12. C23's strtol/strtoul are checked against the C standard's definition (the 0b prefix
 * with base 0 or 2, nothing else changed), compiled with g++ and linked into a small driver.
 * And the ELF reading of test/fuzz/setup/jazzer-addon.ts against the shipped addon, cross-checked
 * with objdump's view of the same file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jazzerAddonPath, readVersionNeeds } from './setup/jazzer-addon.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-host-compat-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const DRIVER = String.raw`
#include <cerrno>
#include <cstdio>
extern "C" long __isoc23_strtol(const char *, char **, int);
extern "C" unsigned long __isoc23_strtoul(const char *, char **, int);
int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    int base = atoi(argv[i + 1]);
    char *end;
    errno = 0;
    long v = __isoc23_strtol(argv[i], &end, base);
    int e1 = errno;
    char *uend;
    errno = 0;
    unsigned long u = __isoc23_strtoul(argv[i], &uend, base);
    printf("%ld %d %d %lu %d %d\n", v, (int)(end - argv[i]), e1 == ERANGE, u, (int)(uend - argv[i]), errno == ERANGE);
  }
}
`;

describe('host-compat.cc', () => {
  it('strtol and strtoul as C23 defines them', () => {
    fs.writeFileSync(path.join(dir, 'driver.cc'), DRIVER.replace('#include <cstdio>', '#include <cstdio>\n#include <cstdlib>'));
    const exe = path.join(dir, 'driver');
    execFileSync('g++', ['-O1', '-o', exe, path.join(dir, 'driver.cc'), path.resolve('test/fuzz/setup/host-compat.cc')]);
    const cases = ['0b101', '0', '  -0b11', '0', '0B1', '2', '0b101', '10', '0b2', '0', '0x1f', '0', '-7', '10', '0b' + '1'.repeat(64), '0', '-0b1' + '0'.repeat(63), '0', '-0b1' + '0'.repeat(64), '0'];
    const out = execFileSync(exe, cases, { encoding: 'utf8' }).trim().split('\n');
    expect(out).toEqual([
      '5 5 0 5 5 0', // binary with base 0
      '-3 7 0 18446744073709551613 7 0', // sign and leading space; strtoul negates modulo 2^64
      '1 3 0 1 3 0', // 0B with base 2
      '0 1 0 0 1 0', // base 10: "0" then stop at b, as C17
      '0 1 0 0 1 0', // 0b not followed by a binary digit: the subject is "0"
      '31 4 0 31 4 0', // hex untouched
      '-7 2 0 18446744073709551609 2 0',
      '9223372036854775807 66 1 18446744073709551615 66 0', // 64 ones: long overflows, unsigned does not
      '-9223372036854775808 67 0 9223372036854775808 67 0', // LONG_MIN exactly
      '-9223372036854775808 68 1 18446744073709551615 68 1', // below LONG_MIN; beyond ULONG_MAX
    ]);
  });

  it('reads the shipped addon’s version needs as objdump does', () => {
    const addon = fs.existsSync(`${jazzerAddonPath()}.shipped`) ? `${jazzerAddonPath()}.shipped` : jazzerAddonPath();
    const { needs, imports } = readVersionNeeds(fs.readFileSync(addon));
    const objdump = execFileSync('objdump', ['-T', addon], { encoding: 'utf8' });
    // objdump: "0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.38) __isoc23_strtol"
    const und = [...objdump.matchAll(/\*UND\*\s+\S+\s+\((\S+)\)\s+(\S+)/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(und.length).toBeGreaterThan(20);
    for (const [version, sym] of und) {
      // The same version name may be needed from two libraries (GLIBC_2.2.5 of libc and of libm).
      const indexes = needs.filter((n) => n.version === version).map((n) => n.index);
      expect(indexes.length, version).toBeGreaterThan(0);
      expect(indexes.some((i) => imports.get(i)?.includes(sym)), `${sym}@${version}`).toBe(true);
    }
  });
});
