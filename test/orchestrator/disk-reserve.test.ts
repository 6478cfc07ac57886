/**
 * The disk reserve (src/orchestrator/disk.ts) must really hold space back on any filesystem:
 * its bytes do not compress and no two of its blocks are alike, so a compressing or
 * deduplicating filesystem (btrfs, ZFS) cannot store it in next to nothing, which would leave
 * nothing to free for result.json when the disk fills.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DiskReserve, RESERVE_BYTES } from '../../src/orchestrator/disk.js';

describe('DiskReserve', () => {
  it('writes RESERVE_BYTES that neither compress nor repeat, and frees them', () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'airlock-reserve-'));
    const reserve = DiskReserve.create(dir);
    expect(reserve.held).toBe(true);
    const bytes = fs.readFileSync(path.join(dir, '.reserve'));
    expect(bytes.length).toBe(RESERVE_BYTES);
    expect(zlib.deflateRawSync(bytes, { level: 1 }).length).toBeGreaterThan(0.99 * RESERVE_BYTES);
    const blocks = new Set<string>();
    for (let at = 0; at < bytes.length; at += 4096) blocks.add(crypto.createHash('sha256').update(bytes.subarray(at, at + 4096)).digest('hex'));
    expect(blocks.size).toBe(RESERVE_BYTES / 4096);
    reserve.release();
    expect(fs.existsSync(path.join(dir, '.reserve'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
