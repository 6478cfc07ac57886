/**
 * The certifier's path end to end on the virtual rig, with the built binary as a user runs it:
 * keygen, a signed run of a leaky firmware, bundle, verify with the public key (the re-analysis
 * is the real analyzer's), then a tampered copy. Needs root (namespaces), like every e2e test.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import AjvModule from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock, runDirOf, tempOut, type AirlockRun } from '../utils/airlock.js';
import { validateJunit } from '../utils/junit-schema.js';

const out = tempOut('airlock-signed-run-');
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

let keys: string;
let run: AirlockRun;
let runDir: string;
let fingerprint: string;

beforeAll(async () => {
  keys = path.join(out, 'keys');
  const k = await runAirlock(['keygen', '--out', keys]);
  expect(k.code, k.stderr).toBe(0);
  fingerprint = k.stdout.trim();
  run = await runAirlock([
    'run', 'scenarios/system-off.yaml', '--out', path.join(out, 'captures'),
    '--set', 'boot=1s', '--set', 'hover=1s', '--set', 'quiet=4s',
    '--firmware', 'drone=leaky-dns', '--key', path.join(keys, 'airlock.key'),
  ]);
  runDir = runDirOf(run);
}, 180_000);

describe('a signed run of the virtual rig', () => {
  it('ran, found the leak, and sealed its directory with a signature', () => {
    expect(run.code, run.stderr).toBe(1);
    expect(fs.existsSync(path.join(runDir, 'manifest.json'))).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'manifest.sig.json'))).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(m.signed).toBe(true);
    expect(m.publicKeyFingerprint).toBe(fingerprint);
    expect(m.verdict).toBe('FAIL');
    expect(m.firmware.find((f: { device: string }) => f.device === 'drone').value).toBe('leaky-dns');
  });

  it('verifies with the public key, hashes, signature and re-analysis by the real analyzer', async () => {
    const v = await runAirlock(['verify', runDir, '--key', path.join(keys, 'airlock.pub')]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/every hash matches the manifest/);
    expect(v.stdout).toContain(`VALID: Ed25519 signature by trusted key ${fingerprint} (from `);
    expect(v.stdout).toMatch(/re-analysis with version \S+ agrees with the recorded verdicts/);
    expect(v.stdout.trim().split('\n').pop()).toBe('VERIFIED');
  });

  it('verifies as a bundle; a copy with one captured byte changed does not', async () => {
    const bundle = path.join(out, 'evidence.tar.gz');
    const b = await runAirlock(['bundle', runDir, '--out', bundle]);
    expect(b.code, b.stderr).toBe(0);
    const v = await runAirlock(['verify', bundle, '--key', path.join(keys, 'airlock.pub')]);
    expect(v.code, v.stdout + v.stderr).toBe(0);

    const copy = path.join(out, 'tampered', path.basename(runDir));
    fs.cpSync(runDir, copy, { recursive: true });
    const pcap = path.join(copy, 'net-drone.pcap');
    const bytes = fs.readFileSync(pcap);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    fs.writeFileSync(pcap, bytes);
    const t = await runAirlock(['verify', copy, '--key', path.join(keys, 'airlock.pub')]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/ALTERED\s+net-drone\.pcap/);
  });

  it('keeps the private key out of the run directory and the run\'s output', () => {
    const pem = fs.readFileSync(path.join(keys, 'airlock.key'), 'utf8');
    const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const seed = Buffer.from(b64, 'base64').subarray(-32);
    for (const n of fs.readdirSync(runDir)) {
      const bytes = fs.readFileSync(path.join(runDir, n));
      expect(bytes.includes(Buffer.from(b64)), n).toBe(false);
      expect(bytes.includes(seed), n).toBe(false);
      expect(bytes.toString('latin1').includes(seed.toString('base64')), n).toBe(false);
    }
    expect(run.stdout + run.stderr).not.toContain(b64);
  });

  it('writes reports that hold: junit.xml against the JUnit schema, result.json against its schema, the findings in report.html', () => {
    const v = validateJunit(fs.readFileSync(path.join(runDir, 'junit.xml'), 'utf8'));
    expect(v.ok, v.output).toBe(true);
    const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
    const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync('schema/result.schema.json', 'utf8')));
    const result = JSON.parse(fs.readFileSync(path.join(runDir, 'result.json'), 'utf8'));
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    const perAssertion = [...result.phases.flatMap((p: { assertions: unknown[] }) => p.assertions), ...result.runAssertions]
      .reduce((n: number, a: { findings: unknown[] }) => n + a.findings.length, 0);
    expect(perAssertion).toBeGreaterThan(0);
    const html = fs.readFileSync(path.join(runDir, 'report.html'), 'utf8');
    expect(html.match(/<tr class="finding"/g)?.length).toBe(perAssertion);
    expect(fs.readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/^# Airlock: ❌ FAIL: system-off/);
    // The Controls section of the real leaky run: the DNS leak bears on SC-7 and SC-7(10), in the phase it happened.
    const md = fs.readFileSync(path.join(runDir, 'summary.md'), 'utf8');
    expect(md).toMatch(/### NIST SP 800-53 Rev\. 5 SC-7 Boundary Protection: FAIL\n/);
    expect(md).toContain('### NIST SP 800-53 Rev. 5 SC-7\\(10\\) Prevent Exfiltration: FAIL\n'); // Markdown-escaped parentheses
    const failedPhases = result.phases.filter((p: { verdict: string }) => p.verdict === 'FAIL').map((p: { name: string }) => p.name);
    expect(md).toContain(`- **FAIL**: Traffic from the system under test was observed crossing the lab's boundary during these phases; each finding names the packet. Phases: ${failedPhases.join(', ')}.`);
    expect(html).toMatch(/<div class="control" data-control="SC-7" data-status="FAIL">/);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'controls.json'), 'utf8')).controls.length).toBe(5);
  });

  it("the run's signatures verify with openssl alone (the certifier docs' script); the test-result statement matches result.json", () => {
    const md = fs.readFileSync('docs/certifier/verifying-a-bundle.md', 'utf8');
    const script = /<!-- test: openssl-verify[^>]*-->\n```sh\n([\s\S]*?)\n```/.exec(md)![1]!;
    const outText = execFileSync('sh', ['-c', script], { cwd: runDir, env: { ...process.env, KEY: path.join(keys, 'airlock.pub') } }).toString();
    expect(outText).toContain('manifest.sig.json: signature and subjects OK');
    expect(outText).toContain('test-result.sig.json: signature and subjects OK');
    const env = JSON.parse(fs.readFileSync(path.join(runDir, 'test-result.sig.json'), 'utf8'));
    const st = JSON.parse(execFileSync('openssl', ['base64', '-d', '-A'], { input: env.payload }).toString());
    const result = JSON.parse(fs.readFileSync(path.join(runDir, 'result.json'), 'utf8'));
    expect(st.predicateType).toBe('https://in-toto.io/attestation/test-result/v0.1');
    expect(result.verdict).toBe('FAIL');
    expect(st.predicate.result).toBe('FAILED');
    expect(st.predicate.airlockRun).toMatchObject({ runId: result.runId, verdict: result.verdict, exitCode: result.exitCode });
    const drone = result.firmware.find((f: { device: string }) => f.device === 'drone');
    expect(st.subject).toContainEqual({ name: 'firmware/drone', digest: { sha256: drone.sha256 } });
    // Every assertion of result.json is a test, in passedTests exactly when its verdict is PASS.
    for (const [i, p] of result.phases.entries()) {
      const ext = st.predicate.airlockRun.phases[i];
      expect(ext.name).toBe(p.name);
      expect(ext.verdict).toBe(p.verdict);
      expect(st.predicate[p.verdict === 'PASS' ? 'passedTests' : 'failedTests']).toContain(ext.test);
      for (const [j, a] of p.assertions.entries()) {
        expect(ext.assertions[j]).toMatchObject({ kind: a.kind, verdict: a.verdict });
        expect(st.predicate[a.verdict === 'PASS' ? 'passedTests' : 'failedTests']).toContain(ext.assertions[j].test);
      }
    }
  });
});
