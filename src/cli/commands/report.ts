/**
 * `airlock report <run-dir|bundle> [--out FILE] [--pdf] [--key PUB]... [--keyring FILE]... [--controls FILE]`:
 * report.html for a finished run, written beside it (never into it), with the reader's trust in the
 * signer on its first page; `--pdf` prints it through headless Chromium. Exit 0 when written
 * (the report states the verification outcome; `airlock verify` is the check that exits non-zero),
 * 2 for bad input or no Chromium.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AirlockError } from '../../errors.js';
import { loadTrustedKeys, printPdf, renderRunReport } from '../../evidence/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export interface ReportCommandOptions {
  path: string;
  out?: string;
  pdf?: boolean;
  key?: string[];
  keyring?: string[];
  controls?: string;
}

function defaultOut(input: string, pdf: boolean): string {
  const base = path.resolve(input).replace(/\.tar\.gz$|\.tgz$/, '').replace(/[/\\]+$/, '');
  return `${base}.report.${pdf ? 'pdf' : 'html'}`;
}

export async function reportCommand(opts: ReportCommandOptions, io: CommandIO, deps: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  try {
    const out = opts.out ?? defaultOut(opts.path, Boolean(opts.pdf));
    if (fs.existsSync(out)) {
      io.err(`airlock: ${out} exists; reports are never overwritten (give --out)`);
      return EXIT.usage;
    }
    // A run directory is sealed: a file added to it makes verify call the run NOT VERIFIED.
    const runDir = path.resolve(opts.path);
    if (fs.existsSync(runDir) && fs.statSync(runDir).isDirectory() && path.resolve(out).startsWith(runDir + path.sep)) {
      io.err(`airlock: ${out} is inside the run directory ${opts.path}; a sealed run is never written to (write the report beside it)`);
      return EXIT.usage;
    }
    const outDir = path.dirname(path.resolve(out));
    if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
      io.err(`airlock: cannot write ${out}: no directory ${outDir}`);
      return EXIT.usage;
    }
    const trustedKeys = loadTrustedKeys({ keyFiles: opts.key ?? [], keyringFiles: opts.keyring ?? [], env: deps.env ?? process.env });
    const { html, verify } = await renderRunReport(opts.path, { trustedKeys, controlsFile: opts.controls });
    if (opts.pdf) {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-report-html-'));
      try {
        const htmlFile = path.join(tmp, 'report.html');
        fs.writeFileSync(htmlFile, html);
        await printPdf(htmlFile, out);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    } else {
      try {
        fs.writeFileSync(out, html, { flag: 'wx' });
      } catch (e) {
        io.err(`airlock: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        return EXIT.usage;
      }
    }
    io.out(out);
    io.err(`report: ${verify.outcome === 'verified' ? 'VERIFIED' : verify.outcome === 'integrity-only' ? 'INTEGRITY ONLY (signer not trusted or unsigned)' : 'NOT VERIFIED'}; signer ${verify.signature.fingerprint ?? 'none'}`);
    return EXIT.pass;
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
