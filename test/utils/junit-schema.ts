/** Validates JUnit XML against test/utils/junit-schema.xsd with xmllint (Debian libxml2-utils), and reads it with XPath. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const JUNIT_XSD = fileURLToPath(new URL('./junit-schema.xsd', import.meta.url));

function withFile<T>(xml: string, fn: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-junit-'));
  try {
    const f = path.join(dir, 'junit.xml');
    fs.writeFileSync(f, xml);
    return fn(f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `{ ok, output }` from `xmllint --noout --schema junit-schema.xsd`; throws if xmllint is missing. */
export function validateJunit(xml: string): { ok: boolean; output: string } {
  return withFile(xml, (f) => {
    const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, f], { encoding: 'utf8' });
    if (r.error) throw new Error(`xmllint is needed (Debian package libxml2-utils): ${r.error.message}`);
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
}

/** The string value of an XPath expression (count(...), string(@attr)...), by xmllint. */
export function xpath(xml: string, expr: string): string {
  return withFile(xml, (f) => {
    const r = spawnSync('xmllint', ['--xpath', expr, f], { encoding: 'utf8' });
    if (r.error) throw new Error(`xmllint is needed (Debian package libxml2-utils): ${r.error.message}`);
    return r.stdout.trim();
  });
}
