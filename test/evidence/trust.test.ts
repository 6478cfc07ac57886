/**
 * Who signed it, not only whether it is intact: a bundle altered and re-signed with another key
 * verifies as integrity only (exit 3), never VERIFIED, unless that key is trusted; keyrings and
 * AIRLOCK_KEYRING; and the standard test-result attestation checked with openssl alone, by the
 * script printed in docs/certifier/verifying-a-bundle.md, run exactly as written there.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadSigningKey } from '../../src/evidence/keys.js';
import { sealRun } from '../../src/evidence/signing.js';
import { buildRunDir, type RunFixture } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-trust-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let fx: RunFixture;
const lab = { dir: '', pub: '', fp: '' };
const forger = { dir: '', pub: '', fp: '' };

async function airlock(argv: string[], env: Record<string, string> = {}) {
  const io = memoryIO();
  const saved = process.env.AIRLOCK_KEYRING;
  if (env.AIRLOCK_KEYRING) process.env.AIRLOCK_KEYRING = env.AIRLOCK_KEYRING;
  else delete process.env.AIRLOCK_KEYRING;
  try {
    const code = await main(argv, io);
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.AIRLOCK_KEYRING;
    else process.env.AIRLOCK_KEYRING = saved;
  }
}

async function keygen(k: typeof lab, dir: string): Promise<void> {
  const r = await airlock(['keygen', '--out', dir]);
  expect(r.code).toBe(0);
  Object.assign(k, { dir, pub: path.join(dir, 'airlock.pub'), fp: r.out.trim() });
}

/** The openssl-only script of the certifier docs, taken from the page as written. */
function docsScript(): string {
  const md = fs.readFileSync('docs/certifier/verifying-a-bundle.md', 'utf8');
  const m = /<!-- test: openssl-verify[^>]*-->\n```sh\n([\s\S]*?)\n```/.exec(md);
  if (!m) throw new Error('docs/certifier/verifying-a-bundle.md has no openssl-verify block');
  return m[1]!;
}

beforeAll(async () => {
  await keygen(lab, path.join(tmp, 'lab'));
  await keygen(forger, path.join(tmp, 'forger'));
  fx = buildRunDir(path.join(tmp, 'captures'), tmp, { signingKeyPem: loadSigningKey({ keyFile: path.join(lab.dir, 'airlock.key') }) });
});

/** A copy of the lab's run with a captured byte changed, then sealed and signed again by the forger. */
function reSigned(): string {
  const dir = path.join(tmp, 'resigned', path.basename(fx.dir));
  fs.cpSync(fx.dir, dir, { recursive: true });
  const pcap = path.join(dir, 'net-drone.pcap');
  const b = fs.readFileSync(pcap);
  b[b.length - 1] = b[b.length - 1]! ^ 0xff;
  fs.writeFileSync(pcap, b);
  for (const f of ['manifest.json', 'manifest.sig.json', 'test-result.sig.json']) fs.rmSync(path.join(dir, f));
  sealRun(dir, { signingKeyPem: loadSigningKey({ keyFile: path.join(forger.dir, 'airlock.key') }) });
  return dir;
}

describe('verify: a trusted signer', () => {
  it('a bundle altered and re-signed with another key: exit 3, signer not trusted, never VERIFIED', async () => {
    const dir = reSigned();
    const bundle = path.join(tmp, 'resigned.tar.gz');
    expect((await airlock(['bundle', dir, '--out', bundle])).code).toBe(0);
    for (const args of [[bundle, '--key', lab.pub], [bundle], [dir, '--key', lab.pub]]) {
      const r = await airlock(['verify', ...args]);
      expect(r.code, r.out + r.err).toBe(3);
      expect(r.out).toContain('INTEGRITY ONLY, signer not trusted');
      expect(r.out).toContain(forger.fp);
      expect(r.out).not.toMatch(/^VERIFIED/m);
      expect(r.out.trim().split('\n').pop()).toMatch(new RegExp(`^INTEGRITY ONLY, signer not trusted \\(${forger.fp}\\)`));
    }
    // The lab's keyring in the environment: the same answer.
    const ring = path.join(tmp, 'lab-ring.pem');
    fs.writeFileSync(ring, `# Airlock lab keyring\n${fs.readFileSync(lab.pub, 'utf8')}`);
    const e = await airlock(['verify', bundle], { AIRLOCK_KEYRING: ring });
    expect(e.code).toBe(3);
    expect(e.out).toContain('which is not among the 1 trusted key');
    // The lab's own run, checked with the same keyring from the environment: VERIFIED.
    const ok = await airlock(['verify', fx.dir], { AIRLOCK_KEYRING: ring });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain(`VALID: Ed25519 signature by trusted key ${lab.fp} (from ${ring})`);
    // Trusting the forger's key (a keyring with both) is a choice the verifier makes explicitly.
    const both = path.join(tmp, 'both.pem');
    fs.writeFileSync(both, fs.readFileSync(lab.pub, 'utf8') + 'the bench-2 key:\n' + fs.readFileSync(forger.pub, 'utf8'));
    const t = await airlock(['verify', dir, '--keyring', both]);
    expect(t.code, t.out).toBe(0);
    expect(t.out).toContain(`trusted key ${forger.fp} (from ${both})`);
  });

  it('an unsigned run checked with a trusted key is NOT VERIFIED, whichever way the key was given', async () => {
    const dir = path.join(tmp, 'unsigned', path.basename(fx.dir));
    fs.cpSync(fx.dir, dir, { recursive: true });
    for (const f of ['manifest.json', 'manifest.sig.json', 'test-result.sig.json']) fs.rmSync(path.join(dir, f));
    sealRun(dir, {});
    const ring = path.join(tmp, 'unsigned-ring.pem');
    fs.writeFileSync(ring, fs.readFileSync(lab.pub, 'utf8'));
    expect((await airlock(['verify', dir])).code).toBe(3); // nothing asked for: integrity only
    for (const r of [await airlock(['verify', dir, '--key', lab.pub]), await airlock(['verify', dir, '--keyring', ring]), await airlock(['verify', dir], { AIRLOCK_KEYRING: ring })]) {
      expect(r.code, r.out).toBe(1);
      expect(r.out.trim().split('\n').pop()).toMatch(/^NOT VERIFIED/);
    }
  });

  it('--json reports the outcome, the signer and the keys trusted', async () => {
    const r = await airlock(['verify', fx.dir, '--key', forger.pub, '--json']);
    expect(r.code).toBe(3);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ outcome: 'integrity-only', verified: false });
    expect(j.signature).toMatchObject({ status: 'untrusted', keySource: 'embedded', fingerprint: lab.fp, trustedKeys: [forger.fp] });
    expect(j.testResult).toMatchObject({ status: 'valid', result: 'FAILED' });
  });

  it('a keyring with a private key, without a key, or a missing one is an input error (exit 2)', async () => {
    const priv = path.join(tmp, 'priv-ring.pem');
    fs.writeFileSync(priv, fs.readFileSync(path.join(lab.dir, 'airlock.key')));
    const p = await airlock(['verify', fx.dir, '--keyring', priv]);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/holds a private key: a keyring holds public keys only/);
    const empty = path.join(tmp, 'empty-ring.pem');
    fs.writeFileSync(empty, '# nothing here\n');
    const e = await airlock(['verify', fx.dir, '--keyring', empty]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/holds no PEM public key/);
    expect((await airlock(['verify', fx.dir], { AIRLOCK_KEYRING: path.join(tmp, 'none.pem') })).code).toBe(2);
  });

  it('a test-result attestation that was swapped or removed makes the run NOT VERIFIED', async () => {
    const dir = path.join(tmp, 'swapped', path.basename(fx.dir));
    fs.cpSync(fx.dir, dir, { recursive: true });
    // The forger's own test-result envelope (a different run's statement) in place of the lab's.
    fs.copyFileSync(path.join(reSigned(), 'test-result.sig.json'), path.join(dir, 'test-result.sig.json'));
    const r = await airlock(['verify', dir, '--key', lab.pub]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/INVALID: test-result\.sig\.json: the signature does not verify under the run's signing key/);
    fs.rmSync(path.join(dir, 'test-result.sig.json'));
    const m = await airlock(['verify', dir, '--key', lab.pub]);
    expect(m.code).toBe(1);
    expect(m.out).toMatch(/test-result\.sig\.json is missing but the manifest says the run carries one/);
  });
});

describe('the test-result attestation, checked with openssl alone', () => {
  it("the docs' script verifies both envelopes; the statement's fields match the run", () => {
    const out = execFileSync('sh', ['-c', docsScript()], { cwd: fx.dir, env: { ...process.env, KEY: lab.pub } }).toString();
    expect(out).toContain('manifest.sig.json: signature and subjects OK');
    expect(out).toContain('test-result.sig.json: signature and subjects OK');
    expect(fs.readdirSync(fx.dir)).not.toContain('pae.bin');

    // The statement, decoded by openssl too, checked field by field against the fixture's result.json.
    const env = JSON.parse(fs.readFileSync(path.join(fx.dir, 'test-result.sig.json'), 'utf8'));
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    expect(env.signatures[0].keyid).toBe(lab.fp);
    const st = JSON.parse(execFileSync('openssl', ['base64', '-d', '-A'], { input: env.payload }).toString());
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://in-toto.io/attestation/test-result/v0.1');
    const sha = (n: string) => execFileSync('sha256sum', [path.join(fx.dir, n)]).toString().split(' ')[0];
    expect(st.subject).toEqual([
      { name: 'firmware/drone', digest: { sha256: 'a'.repeat(64) } },
      { name: 'result.json', digest: { sha256: sha('result.json') } },
      { name: 'manifest.json', digest: { sha256: sha('manifest.json') } },
    ]);
    const p = st.predicate;
    expect(p.result).toBe('FAILED');
    expect(p.warnedTests).toEqual([]);
    expect(p.configuration).toEqual([
      { name: 'scenario.yaml', digest: { sha256: sha('scenario.yaml') }, annotations: { role: 'scenario' } },
      { name: 'rig.yaml', digest: { sha256: sha('rig.yaml') }, annotations: { role: 'rig' } },
    ]);
    // The fixture: powered FAIL (no_egress FAIL, no_dns PASS, no_egress@sinkhole PASS), quiet FAIL
    // (current_below FAIL, no_radio INCONCLUSIVE), after-off INCONCLUSIVE (did not run).
    expect(p.passedTests).toEqual(['phase powered / no_dns', 'phase powered / no_egress #2']);
    expect(p.failedTests).toEqual([
      'phase powered',
      'phase powered / no_egress',
      'phase quiet',
      'phase quiet / current_below',
      'phase quiet / no_radio',
      'phase after-off',
      'phase after-off / no_egress',
    ]);
    expect(p.airlockRun).toMatchObject({ runId: fx.result.runId, scenario: 'system-off', verdict: 'FAIL', exitCode: 1, complete: false });
    expect(p.airlockRun.phases.map((x: { verdict: string }) => x.verdict)).toEqual(['FAIL', 'FAIL', 'INCONCLUSIVE']);
    expect(p.airlockRun.phases[1].assertions[1]).toEqual({ kind: 'no_radio', test: 'phase quiet / no_radio', verdict: 'INCONCLUSIVE' });
  });

  it('openssl rejects the PAE of a payload with one byte changed', () => {
    const dir = path.join(tmp, 'payload-flip', path.basename(fx.dir));
    fs.cpSync(fx.dir, dir, { recursive: true });
    const f = path.join(dir, 'test-result.sig.json');
    const env = JSON.parse(fs.readFileSync(f, 'utf8'));
    env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString('utf8').replace('"FAILED"', '"PASSED"')).toString('base64');
    fs.writeFileSync(f, JSON.stringify(env));
    let failed = '';
    try {
      execFileSync('sh', ['-c', docsScript()], { cwd: dir, env: { ...process.env, KEY: lab.pub }, stdio: 'pipe' });
    } catch (e) {
      failed = String((e as { stdout?: Buffer }).stdout);
    }
    expect(failed).toContain('manifest.sig.json: signature and subjects OK');
    expect(failed).toMatch(/Signature Verification Failure/);
    expect(failed).not.toContain('test-result.sig.json: signature and subjects OK');
    // A check that failed half way leaves no scratch file in the run directory (verify would call it extra).
    expect(fs.readdirSync(dir).filter((f) => /^(payload\.json|sig\.bin|pae\.bin)$/.test(f))).toEqual([]);
  });
});
