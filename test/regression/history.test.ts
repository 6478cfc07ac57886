import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHistory } from '../../src/regression/index.js';
import { historyCommand } from '../../src/cli/commands/history.js';
import { memoryIO } from '../../src/cli/io.js';

const fixtures = path.resolve(__dirname, '../fixtures/regression/history');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-history-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('history', () => {
  it('groups suites by firmware build (SHA-256), oldest first, with verdicts per scenario', () => {
    const h = buildHistory(fixtures);
    expect(h.suites).toBe(4);
    expect(h.builds.map((b) => b.label)).toEqual([
      expect.stringMatching(/^drone=\/builds\/build-101\.bin@[0-9a-f]{8}$/),
      expect.stringMatching(/^drone=\/builds\/build-102\.bin@/),
      expect.stringMatching(/^drone=\/builds\/build-103\.bin@/),
    ]);
    expect(h.scenarios).toEqual(['system-off', 'standby-on-ground', 'app-connected-no-flight']);
    expect(h.builds[0]!.verdicts).toEqual({ 'system-off': 'PASS', 'standby-on-ground': 'PASS', 'app-connected-no-flight': 'PASS' });
    // build 102 ran twice: the latest decides, the earlier different verdict is kept
    expect(h.builds[1]!.verdicts['app-connected-no-flight']).toBe('INCONCLUSIVE (was PASS)');
    expect(h.builds[1]!.suites).toHaveLength(2);
    expect(h.builds[2]!.verdicts['app-connected-no-flight']).toBe('NOT RUN');
    // outside destinations: recorded in suite.json, or (older suites) taken from result.json's egress findings
    expect(h.builds.map((b) => b.outsideDestinations)).toEqual([[], ['203.0.113.7'], ['198.51.100.20', '2001:db8::5', '203.0.113.7']]);
  });

  it('prints the Markdown table and writes an offline trend page whose marks carry the data they plot', async () => {
    const io = memoryIO();
    const out = path.join(tmp, 'history.html');
    expect(await historyCommand({ dir: fixtures, out }, io)).toBe(0);
    const md = io.stdout.join('\n');
    expect(md).toContain('| scenario | build 1 | build 2 | build 3 |');
    expect(md).toContain('| system-off | PASS | FAIL | FAIL |');
    expect(md).toContain('| app-connected-no-flight | PASS | INCONCLUSIVE (was PASS) | NOT RUN |');
    expect(md).toContain('| outside destinations | 0 | 1 | 3 |');
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // self-contained, offline
    const bars = [...html.matchAll(/<rect class="dest-bar" data-build="(\d+)" data-count="(\d+)" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map((m) => ({
      build: Number(m[1]),
      count: Number(m[2]),
      height: Number(m[4]),
    }));
    expect(bars.map((b) => [b.build, b.count])).toEqual([[1, 0], [2, 1], [3, 3]]);
    // heights proportional to the counts (the tallest is the full 120 px)
    expect(bars.map((b) => b.height)).toEqual([0, 40, 120]);
    const cells = [...html.matchAll(/<rect class="verdict" data-scenario="([^"]+)" data-build="(\d+)" data-verdict="([^"]+)"[^>]*fill="(#[0-9a-f]+)"/g)].map((m) => `${m[1]}/${m[2]}=${m[3]}:${m[4]}`);
    expect(cells).toHaveLength(9);
    expect(cells).toContain('system-off/2=FAIL:#c62828');
    expect(cells).toContain('system-off/1=PASS:#2e7d32');
    expect(cells).toContain('app-connected-no-flight/3=NOT RUN:#9e9e9e');
  });

  it('a directory without suites is an input error', async () => {
    await expect(historyCommand({ dir: tmp, out: path.join(tmp, 'x.html') }, memoryIO())).rejects.toMatchObject({ category: 'input', code: 'AIRLOCK_HISTORY_BAD_INPUT' });
  });
});
