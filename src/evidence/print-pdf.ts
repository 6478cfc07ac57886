/**
 * report.html to PDF through a headless Chromium already installed on the machine (Debian's
 * `chromium` package; AIRLOCK_CHROMIUM names another binary). Chromium's own print path honours
 * the report's print stylesheet (the run summary alone on page 1, a page per section, colours
 * kept) and runs the inline chart script first, so the charts are in the PDF. The page's Content
 * Security Policy forbids every fetch; the browser gets a throw-away profile and no proxy.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReportError } from './errors.js';

export const CHROMIUM_ENV = 'AIRLOCK_CHROMIUM';
const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium binary: AIRLOCK_CHROMIUM, else the first of the usual names on PATH; undefined when none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env[CHROMIUM_ENV]?.trim();
  if (given) return given;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    for (const name of CANDIDATES) {
      const p = path.join(dir, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* not here: try the next directory */
      }
    }
  }
  return undefined;
}

/** Prints an HTML file to a PDF file (A4, the page's own margins, no header or footer). */
export async function printPdf(htmlFile: string, pdfFile: string, opts: { chromium?: string; timeoutMs?: number } = {}): Promise<void> {
  const bin = opts.chromium ?? findChromium();
  if (!bin) {
    throw new ReportError('AIRLOCK_REPORT_NO_CHROMIUM', `no Chromium to print the PDF with: install Debian's chromium package, or set ${CHROMIUM_ENV} to a Chromium binary (the HTML report prints from any browser too)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-chromium-'));
  const args = [
    '--headless',
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--proxy-server=127.0.0.1:9', // nothing to fetch; if anything tried, it goes nowhere
    `--user-data-dir=${profile}`,
    '--no-pdf-header-footer',
    `--print-to-pdf=${path.resolve(pdfFile)}`,
    pathToFileURL(path.resolve(htmlFile)).href,
  ];
  // Chromium refuses to run as root with its sandbox; the page is our own, offline, script-limited.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(bin, args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 8 << 20 }, (err, _stdout, stderr) => {
        if (err) reject(new ReportError('AIRLOCK_REPORT_PRINT_FAILED', `${bin} could not print ${htmlFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such program' : String(stderr).trim().split('\n').slice(-2).join(' ') || err.message}`, { cause: err }));
        else resolve();
      });
    });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
  let size = 0;
  try {
    size = fs.statSync(pdfFile).size;
  } catch {
    /* reported just below */
  }
  if (size < 5 || fs.readFileSync(pdfFile).subarray(0, 5).toString('latin1') !== '%PDF-') {
    throw new ReportError('AIRLOCK_REPORT_PRINT_FAILED', `${bin} wrote no PDF to ${pdfFile}`);
  }
}
