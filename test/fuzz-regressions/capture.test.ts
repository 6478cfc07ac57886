/** Capture-reader findings of `npm run fuzz` (docs/developer/fuzzing.md). */
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/analysis/index.js';

describe('capture reader: fuzz findings', () => {
  it('a pcap header claiming a 4 GiB snaplen does not make a 2.4 GB record readable (it aborted Node before)', async () => {
    // Header snaplen 0xffffffff, one record whose incl_len is 0x90000000: reading it used to
    // allocate that much and then fail a native assertion inside fs.read, killing the process.
    const before = process.memoryUsage().rss;
    const info = await readCapture('test/fixtures/fuzz/capture/snaplen-4gib-record.pcap', () => {
      throw new Error('no packet may be delivered');
    });
    expect(info.packets).toBe(0);
    expect(info.damage).toEqual({ offset: 24, reason: 'record length 2415919104 exceeds the maximum 262144 (damaged record header)' });
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });
});
