/**
 * `airlock report --pdf`: a signed leaky run printed through Debian's headless chromium; poppler's
 * pdftotext (an independent reader) shows that page 1 is the run summary and names the verdict, the
 * signer's fingerprint and whether the reader trusts it, and that the sections follow on later pages.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';
import { generateKeyPair } from '../../src/evidence/keys.js';
import { buildRunDir, type RunFixture } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-report-pdf-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fx: RunFixture;
let fingerprint: string;
let pub: string;

async function airlock(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** The text of one page, by pdftotext (poppler-utils). */
function pageText(pdf: string, page: number): string {
  return execFileSync('pdftotext', ['-f', String(page), '-l', String(page), '-layout', pdf, '-']).toString();
}

function pageCount(pdf: string): number {
  return Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf]).toString())![1]);
}

beforeAll(() => {
  const kp = generateKeyPair();
  fingerprint = kp.fingerprint;
  pub = path.join(tmp, 'lab.pub');
  fs.writeFileSync(pub, kp.publicKeyPem);
  fx = buildRunDir(path.join(tmp, 'captures'), tmp, { signingKeyPem: kp.privateKeyPem });
});

describe('airlock report --pdf', () => {
  it('page 1 is the run summary: verdict, devices and firmware hash, phases, controls, signer fingerprint, trusted', async () => {
    const pdf = path.join(tmp, 'trusted.pdf');
    const before = fs.readdirSync(fx.dir).sort();
    const r = await airlock('report', fx.dir, '--pdf', '--key', pub, '--out', pdf);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(pdf);
    expect(fs.readdirSync(fx.dir).sort()).toEqual(before); // the run directory is never written to
    expect(fs.readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');

    const p1 = pageText(pdf, 1);
    expect(p1).toMatch(/Airlock run summary: FAIL/);
    expect(p1).toContain(fingerprint);
    expect(p1).toMatch(/trusted: VERIFIED when this report was made/);
    expect(p1).toContain('system-off');
    expect(p1).toContain('a'.repeat(64)); // the drone's firmware hash
    expect(p1).toMatch(/powered\s+FAIL/);
    expect(p1).toMatch(/after-off \(incomplete\)\s+INCONCLUSIVE/);
    expect(p1).toMatch(/SC-7 Boundary Protection\s+FAIL/);
    expect(p1).toMatch(/§ 89\.110\(a\)\(1\).*not tested/s);
    // The sections start on later pages: page 1 holds the summary alone.
    expect(p1).not.toMatch(/Manifest summary|Spectrum waterfall/);
    const n = pageCount(pdf);
    expect(n).toBeGreaterThan(3);
    const rest = Array.from({ length: n - 1 }, (_, i) => pageText(pdf, i + 2)).join('\n');
    expect(rest).toMatch(/Controls/);
    expect(rest).toMatch(/Traffic from the system under test was observed crossing the lab's boundary/);
    expect(rest).toMatch(/Manifest summary/);
  }, 120_000);

  it('without the signer\'s key, page 1 says NOT TRUSTED and names the fingerprint', async () => {
    const pdf = path.join(tmp, 'untrusted.pdf');
    const r = await airlock('report', fx.dir, '--pdf', '--out', pdf);
    expect(r.code, r.err).toBe(0);
    const p1 = pageText(pdf, 1);
    expect(p1).toMatch(/Airlock run summary: FAIL/);
    expect(p1).toContain(fingerprint);
    expect(p1).toMatch(/NOT TRUSTED: INTEGRITY ONLY, signer not trusted/);
  }, 120_000);

  it('HTML by default, beside the run; never overwrites; no Chromium is a clear input error', async () => {
    const r = await airlock('report', fx.dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(`${fx.dir}.report.html`);
    expect(fs.readFileSync(`${fx.dir}.report.html`, 'utf8')).toContain('id="run-summary"');
    expect((await airlock('report', fx.dir)).code).toBe(2);
    const saved = process.env.AIRLOCK_CHROMIUM;
    process.env.AIRLOCK_CHROMIUM = path.join(tmp, 'no-such-chromium');
    try {
      const x = await airlock('report', fx.dir, '--pdf', '--out', path.join(tmp, 'x.pdf'));
      expect(x.code).toBe(2);
      expect(x.err).toMatch(/could not print .*: no such program/);
    } finally {
      if (saved === undefined) delete process.env.AIRLOCK_CHROMIUM;
      else process.env.AIRLOCK_CHROMIUM = saved;
    }
  });

  it('an --out inside the sealed run directory, or in no directory, is an input error (exit 2), nothing written', async () => {
    const inside = await airlock('report', fx.dir, '--out', path.join(fx.dir, 'again.html'));
    expect(inside.code, inside.err).toBe(2);
    expect(inside.err).toMatch(/is inside the run directory .*never written to/);
    expect(fs.existsSync(path.join(fx.dir, 'again.html'))).toBe(false);
    const nowhere = await airlock('report', fx.dir, '--out', path.join(tmp, 'no-such-dir', 'r.html'));
    expect(nowhere.code, nowhere.err).toBe(2);
    expect(nowhere.err).toMatch(/cannot write .*r\.html: no directory/);
    expect(nowhere.err).not.toMatch(/internal error/);
  });

  it('a bundle is reported the same way, written beside the bundle', async () => {
    const dir = path.join(tmp, 'bundles');
    fs.mkdirSync(dir);
    const bundle = path.join(dir, 'evidence.tar.gz');
    expect((await airlock('bundle', fx.dir, '--out', bundle)).code).toBe(0);
    const r = await airlock('report', bundle, '--key', pub);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(path.join(dir, 'evidence.report.html'));
    const html = fs.readFileSync(path.join(dir, 'evidence.report.html'), 'utf8');
    expect(html).toContain('data-trust="trusted"');
    expect(html).toContain(`VERIFIED when this report was made: Ed25519 signature by trusted key ${fingerprint}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['evidence.report.html', 'evidence.tar.gz']); // the unpacked copy is gone
  });
});
