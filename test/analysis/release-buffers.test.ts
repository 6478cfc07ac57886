/**
 * Memory the scan is done with is freed before the flow summaries are built (src/analysis/release.ts,
 * docs/performance.md): releaseBuffers() empties the views it is given and their memory goes at
 * the next minor collection, not the next full one; readCapture frees its read buffers only when
 * asked (release: true); a flow table after endLookups() keeps its records readable and refuses
 * to add a flow rather than add one its index cannot find.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/analysis/capture-reader.js';
import { FlowTable, R, Layout } from '../../src/analysis/flow-table.js';
import { releaseBuffers } from '../../src/analysis/release.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '../fixtures/analysis/eth-le.pcap');

/** A long-lived (old generation) buffer of `mb` MiB, filled so that its pages are resident. */
function oldBuffer(mb: number): Uint32Array {
  const a = new Uint32Array((mb << 20) / 4).fill(7);
  churn(64); // survives minor collections: moved to the old generation
  return a;
}

/** Allocates about `mb` MiB of short-lived objects (minor collections run meanwhile). */
function churn(mb: number): number {
  let n = 0;
  for (let i = 0; i < (mb << 20) / 64; i++) n += [i, i + 1, i + 2].length;
  return n;
}

describe('releaseBuffers', () => {
  it('empties every view over the buffers given (each buffer once), and no other', () => {
    const a = new Uint32Array(1024).fill(1);
    const f = new Float64Array(a.buffer); // a second view of a's buffer
    const b = Buffer.alloc(64, 2);
    const other = new Int32Array(16).fill(3);
    releaseBuffers(a, f, b.subarray(8, 16), new Int32Array(0));
    expect([a.length, f.length, b.length, a[0], b[0]]).toEqual([0, 0, 0, undefined, undefined]);
    expect(other.length).toBe(16);
    expect(other[15]).toBe(3);
  });

  it('frees an old-generation buffer at the next minor collections, with no full collection asked for', async () => {
    const a = oldBuffer(64);
    const held = process.memoryUsage().arrayBuffers;
    expect(held).toBeGreaterThanOrEqual(64 << 20);
    releaseBuffers(a);
    let now = held;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && held - now < 60 << 20) {
      churn(32);
      await new Promise((r) => setTimeout(r, 10));
      now = process.memoryUsage().arrayBuffers;
    }
    expect(held - now).toBeGreaterThanOrEqual(60 << 20);
  });
});

describe('readCapture release option', () => {
  it('empties the read buffers after the file when asked, and leaves them alone by default', async () => {
    for (const release of [false, true]) {
      let buf: Buffer | undefined;
      let packets = 0;
      const info = await readCapture(fixture, (p) => {
        buf = p.buf;
        packets++;
      }, { release });
      expect(info.packets).toBe(packets);
      expect(packets).toBeGreaterThan(0);
      expect(buf!.length === 0).toBe(release);
    }
  });
});

describe('FlowTable.endLookups', () => {
  it('keeps the records readable, finds the most recent flow, and throws instead of adding one', () => {
    const t = new FlowTable();
    const rs: number[] = [];
    for (let i = 0; i < 5000; i++) rs.push(t.lookup4(0x0a000001 + i, 0x0a010001, 6, 40000 + (i % 1000), 443));
    const last = rs.at(-1)!;
    t.endLookups();
    expect(t.size).toBe(5000);
    expect(rs.map((r) => t.u32[r + R.A0])).toEqual(rs.map((_, i) => 0x0a000001 + i));
    expect(rs.every((r, i) => r === i * Layout.STRIDE)).toBe(true);
    // The recent-flow cache still answers; the index is gone, so a new flow cannot be placed.
    expect(t.lookup4(0x0a000001 + 4999, 0x0a010001, 6, 40000 + (4999 % 1000), 443)).toBe(last);
    expect(() => t.lookup4(0x0b000001, 0x0a010001, 6, 1234, 443)).toThrow(/after endLookups/);
  });
});
