/**
 * `airlock report`: report.html rendered again for a finished run directory or bundle, with what
 * only a reader can add: whether the signer is a key the reader trusts (a verification with the
 * reader's keys; the verdicts are not re-derived here, `airlock verify` does that) and, when asked,
 * another control mapping. The run directory itself is never written to (runs are append-only).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGzipFile, unpackBundle } from './bundle.js';
import { loadControlsMapping, observeControls } from './controls.js';
import { BundleInputError, ReportError } from './errors.js';
import { htmlReport } from './html-report.js';
import type { TrustedKey } from './keys.js';
import { readReportSeries } from './report-data.js';
import type { RunResult } from './result.js';
import { deviceIdentities, type SignerInfo } from './run-summary.js';
import { verifyRun, type VerifyReport } from './verify.js';

export interface RunReportOptions {
  trustedKeys?: TrustedKey[];
  /** A control mapping file; default: the run's own controls.json, else the shipped mapping. */
  controlsFile?: string;
}

/** The signer line of the first page, from a verification. */
export function signerFromVerify(v: VerifyReport): SignerInfo {
  const s = v.signature;
  const problems = v.problems.length ? ` Problems: ${v.problems.join('; ')}.` : '';
  if (v.outcome === 'verified') return { fingerprint: s.fingerprint, trust: 'trusted', text: `VERIFIED when this report was made: ${s.message}; every file matches the signed manifest.` };
  if (s.status === 'unsigned') return { trust: 'unsigned', text: `INTEGRITY ONLY, unsigned: ${s.message}.${problems}` };
  if (v.outcome === 'integrity-only') return { fingerprint: s.fingerprint, trust: 'not-trusted', text: `${s.message}.` };
  return { fingerprint: s.fingerprint, trust: 'not-trusted', text: `NOT VERIFIED: ${s.message || 'see problems'}.${problems}` };
}

async function withRunDir<T>(input: string, fn: (dir: string) => Promise<T>): Promise<T> {
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch (e) {
    throw new BundleInputError('AIRLOCK_EVIDENCE_NO_INPUT', `no such run directory or bundle: ${input}`, { cause: e });
  }
  if (st.isDirectory()) return fn(path.resolve(input));
  if (!st.isFile() || !isGzipFile(input)) throw new BundleInputError('AIRLOCK_EVIDENCE_BAD_BUNDLE', `${input} is neither a run directory nor a .tar.gz bundle`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-report-'));
  try {
    return await fn(await unpackBundle(input, tmp));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** report.html for a finished run, with the reader's trust in its signer on the first page. */
export async function renderRunReport(input: string, opts: RunReportOptions = {}): Promise<{ html: string; verify: VerifyReport; result: RunResult }> {
  return withRunDir(input, async (dir) => {
    let result: RunResult;
    try {
      result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as RunResult;
    } catch (e) {
      throw new ReportError('AIRLOCK_REPORT_NO_RESULT', `${input}: no readable result.json, nothing to report (${(e as Error).message.split('\n')[0]})`, { cause: e });
    }
    if (!result || !Array.isArray(result.phases)) throw new ReportError('AIRLOCK_REPORT_NO_RESULT', `${input}: result.json is not an Airlock result`);
    result.runAssertions ??= [];
    const verify = await verifyRun(dir, { trustedKeys: opts.trustedKeys, reanalyzeUnavailableReason: 'not part of `airlock report`; run `airlock verify`' });
    verify.input = input;
    const own = path.join(dir, 'controls.json');
    const mapping = loadControlsMapping(opts.controlsFile ?? (fs.existsSync(own) ? own : undefined));
    if (!opts.controlsFile && fs.existsSync(own)) mapping.origin = [`controls.json of the run`];
    const html = htmlReport({
      runDir: dir,
      result,
      series: readReportSeries(dir),
      controls: observeControls(result, mapping),
      signer: signerFromVerify(verify),
      devices: deviceIdentities(dir, result),
    });
    return { html, verify, result };
  });
}
