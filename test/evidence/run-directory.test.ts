import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunDirectory } from '../../src/evidence/run-directory.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rundir-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('RunDirectory', () => {
  it('creates <UTC stamp>-<scenario> exclusively, adding -2, -3 in the same second', () => {
    const now = new Date('2026-11-24T09:05:07.123Z');
    const a = RunDirectory.create(tmp, 'system-off', now);
    const b = RunDirectory.create(tmp, 'system-off', now);
    const c = RunDirectory.create(tmp, 'system-off', now);
    expect(path.basename(a.path)).toBe('20261124T090507Z-system-off');
    expect(path.basename(b.path)).toBe('20261124T090507Z-system-off-2');
    expect(path.basename(c.path)).toBe('20261124T090507Z-system-off-3');
    expect(a.runId).toMatch(/^[0-9a-f]{6}$/);
    expect(new Set([a.runId, b.runId, c.runId]).size).toBe(3);
  });

  it('refuses names that escape the directory, and never overwrites', () => {
    const d = RunDirectory.create(tmp, 'names');
    expect(() => d.file('../x')).toThrow(/plain file name/);
    expect(() => d.file('a/b')).toThrow(/plain file name/);
    expect(() => d.file('..')).toThrow(/plain file name/);
    d.writeJson('result.json', { runId: d.runId });
    expect(() => d.writeJson('result.json', {})).toThrow(/append-only/);
    expect(() => d.writeText('result.json', 'x')).toThrow(/append-only/);
    expect(JSON.parse(fs.readFileSync(d.file('result.json'), 'utf8'))).toEqual({ runId: d.runId });
    const src = path.join(tmp, 'scenario-src.yaml');
    fs.writeFileSync(src, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0x0d, 0x0a]));
    d.copyIn(src, 'scenario.yaml');
    expect(fs.readFileSync(d.file('scenario.yaml')).equals(fs.readFileSync(src))).toBe(true);
    expect(() => d.copyIn(src, 'scenario.yaml')).toThrow();
    expect(RunDirectory.open(d.path).runId).toBe(d.runId);
  });

  it('appends timeline events synchronously with monotonic and wall-clock times', () => {
    const d = RunDirectory.create(tmp, 'timeline');
    const t = d.timeline();
    t.append({ event: 'phase-start', phase: 'boot' });
    // visible on disk immediately, before close
    const first = fs.readFileSync(d.file('timeline.jsonl'), 'utf8');
    expect(first.trim().split('\n')).toHaveLength(1);
    t.append({ event: 'phase-end', phase: 'boot' });
    t.close();
    const lines = fs.readFileSync(d.file('timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event: 'phase-start', phase: 'boot' });
    expect(typeof lines[0].mono_ms).toBe('number');
    expect(lines[1].mono_ms).toBeGreaterThanOrEqual(lines[0].mono_ms);
    expect(Date.parse(lines[1].time)).not.toBeNaN();
    expect(lines[1].time.endsWith('Z')).toBe(true);
    expect(() => t.append({ event: 'late' })).toThrow();
  });
});
