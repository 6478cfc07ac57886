/**
 * A bundle is hostile input: one that would unpack to more than the disk holds (a bomb) is
 * refused before anything is written, as bad input (exit 2 through the CLI), naming the sizes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackBundle } from '../../src/evidence/bundle.js';

let dir: string;
let mnt: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bomb-'));
  mnt = path.join(dir, 'small');
  fs.mkdirSync(mnt);
  // A 32 MiB filesystem to unpack into (tests run as root).
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mnt]);
  const small = path.join(dir, 'small-run');
  fs.mkdirSync(small);
  fs.writeFileSync(path.join(small, 'manifest.json'), '{}');
  fs.writeFileSync(path.join(small, 'net-drone.pcap'), Buffer.alloc(1024 * 1024, 7));
  execFileSync('tar', ['-czf', path.join(dir, 'small.tar.gz'), '-C', dir, 'small-run']);
  // About 21 MB that gzip shrinks several times over (node-tar already refuses ratios above
  // 1000:1; this one is below that and still more than the small disk holds), made with the real tar.
  const run = path.join(dir, 'run');
  fs.mkdirSync(run);
  fs.writeFileSync(path.join(run, 'net-drone.pcap'), execFileSync('seq', ['1', '3000000'], { maxBuffer: 64 * 1024 * 1024 }));
  fs.writeFileSync(path.join(run, 'manifest.json'), '{}');
  execFileSync('tar', ['-czf', path.join(dir, 'bomb.tar.gz'), '-C', dir, 'run']);
});

afterAll(() => {
  try {
    execFileSync('umount', [mnt]);
  } catch (e) {
    // Already unmounted or never mounted (beforeAll failed and said why).
    void e;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('unpacking a bundle', () => {
  it('refuses a bundle that unpacks to more than the disk holds, before writing anything', async () => {
    expect(fs.statSync(path.join(dir, 'bomb.tar.gz')).size).toBeLessThan(16 * 1024 * 1024);
    const error = await unpackBundle(path.join(dir, 'bomb.tar.gz'), path.join(mnt, 'x')).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; category?: string },
    );
    expect(error?.code).toBe('AIRLOCK_EVIDENCE_BAD_BUNDLE');
    expect(error?.category).toBe('input');
    expect(error?.message).toMatch(/it unpacks to 22888\d\d\d bytes, more than the \d+ bytes free/);
    expect(fs.readdirSync(path.join(mnt, 'x'))).toEqual([]);
  });

  it('unpacks a bundle that fits on the same small disk', async () => {
    const out = await unpackBundle(path.join(dir, 'small.tar.gz'), path.join(mnt, 'y'));
    expect(fs.statSync(path.join(out, 'net-drone.pcap')).size).toBe(1024 * 1024);
  });

  it('unpacks the large bundle where there is room', async () => {
    const out = await unpackBundle(path.join(dir, 'bomb.tar.gz'), path.join(dir, 'roomy'));
    expect(fs.statSync(path.join(out, 'net-drone.pcap')).size).toBe(fs.statSync(path.join(dir, 'run', 'net-drone.pcap')).size);
  });
});
