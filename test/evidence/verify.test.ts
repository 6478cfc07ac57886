/**
 * A signed run directory, tampered with in every way a file can be: each kind of file with one byte
 * flipped, a file deleted, a file added. verify must name each and exit 1; the untouched run, its
 * bundle, and the bundle unpacked elsewhere (by GNU tar, not by our code) verify with exit 0.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCommand } from '../../src/cli/commands/bundle.js';
import { keygenCommand } from '../../src/cli/commands/keygen.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadSigningKey, loadTrustedKeys, type TrustedKey } from '../../src/evidence/keys.js';
import { verifyRun, type ReanalysisResult } from '../../src/evidence/verify.js';
import { buildRunDir, type RunFixture } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-verify-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const noReanalysis = { loadReanalyze: async () => ({ reason: 'not under test here' }), env: {} };
let keys: string;
let fingerprint: string;
let fx: RunFixture;
let trustedKeys: TrustedKey[];

/** Verifies with the test's public key, or with none when key is null. */
async function verify(p: string, key: string | null = path.join(keys, 'airlock.pub')) {
  const io = memoryIO();
  const code = await verifyCommand({ path: p, key: key ?? undefined, json: false }, io, noReanalysis);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

/** A fresh copy of the signed run (same directory name) under its own parent. */
function copyRun(tag: string): string {
  const dst = path.join(tmp, tag, path.basename(fx.dir));
  fs.cpSync(fx.dir, dst, { recursive: true });
  return dst;
}

function flipByte(file: string): void {
  const b = fs.readFileSync(file);
  const i = Math.floor(b.length / 2);
  b[i] = b[i]! ^ 0x01;
  fs.writeFileSync(file, b);
}

beforeAll(async () => {
  keys = path.join(tmp, 'keys');
  const io = memoryIO();
  expect(await keygenCommand({ out: keys }, io)).toBe(0);
  fingerprint = io.stdout.join('').trim();
  const key = loadSigningKey({ keyFile: path.join(keys, 'airlock.key') });
  expect(key).toBeDefined();
  fx = buildRunDir(path.join(tmp, 'captures'), tmp, { signingKeyPem: key });
  trustedKeys = loadTrustedKeys({ keyFiles: [path.join(keys, 'airlock.pub')] });
});

describe('keygen', () => {
  it('writes a 0600 PKCS8 private key and an SPKI public key whose fingerprint it prints', async () => {
    expect(fs.statSync(path.join(keys, 'airlock.key')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(keys, 'airlock.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const pub = fs.readFileSync(path.join(keys, 'airlock.pub'), 'utf8');
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    // Independent fingerprint: SHA-256 of the DER inside the PEM, by openssl.
    const der = Buffer.from(pub.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0];
    expect(fingerprint).toBe(expected);
    const io = memoryIO();
    expect(await keygenCommand({ out: keys }, io)).toBe(2); // never overwrites a key
    expect(io.stderr.join('')).toMatch(/exists/);
  });

  it('takes the signing key from AIRLOCK_SIGNING_KEY as PEM text or a path; refuses a non-Ed25519 key', () => {
    const pem = fs.readFileSync(path.join(keys, 'airlock.key'), 'utf8');
    expect(loadSigningKey({ env: { AIRLOCK_SIGNING_KEY: pem } })).toBe(pem);
    expect(loadSigningKey({ env: { AIRLOCK_SIGNING_KEY: path.join(keys, 'airlock.key') } })).toBe(pem);
    expect(loadSigningKey({ env: {} })).toBeUndefined();
    const rsa = path.join(tmp, 'rsa.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', rsa], { stdio: 'pipe' });
    expect(() => loadSigningKey({ keyFile: rsa })).toThrow(/not Ed25519/);
    // key material in a form we do not read is never echoed into an error (and so into a log)
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
    let msg = '';
    try {
      loadSigningKey({ env: { AIRLOCK_SIGNING_KEY: der } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/neither PEM text nor the path of a readable file/);
    expect(msg).not.toContain(der.slice(0, 16));
  });
});

describe('verify', () => {
  it('verifies the untouched signed run with the trusted key; with only the embedded key it is integrity only, exit 3', async () => {
    const r = await verify(fx.dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/every hash matches/);
    expect(r.out).toContain(`VALID: Ed25519 signature by trusted key ${fingerprint}`);
    expect(r.out).toMatch(/test result \(test-result\.sig\.json\): in-toto test-result statement, result FAILED \(run verdict FAIL\)/);
    expect(r.out.trim().split('\n').pop()).toBe('VERIFIED (verdicts not re-derived)');
    const e = await verify(fx.dir, null);
    expect(e.code).toBe(3);
    expect(e.out).toContain(`INTEGRITY ONLY, signer not trusted: the Ed25519 signature is valid under the key the run carries, fingerprint ${fingerprint}`);
    expect(e.out).not.toMatch(/^VERIFIED/m);
    expect(e.out.trim().split('\n').pop()).toBe(`INTEGRITY ONLY, signer not trusted (${fingerprint}) (verdicts not re-derived)`);
  });

  it('manifest records hashes, versions, host, firmware, times and verdicts', () => {
    const m = JSON.parse(fs.readFileSync(path.join(fx.dir, 'manifest.json'), 'utf8'));
    const pcap = fs.readFileSync(path.join(fx.dir, 'net-drone.pcap'));
    const sha = execFileSync('sha256sum', [path.join(fx.dir, 'net-drone.pcap')]).toString().split(' ')[0];
    expect(m.files).toContainEqual({ name: 'net-drone.pcap', sha256: sha, size: pcap.length });
    expect(m.files.map((f: { name: string }) => f.name)).toEqual(
      fs.readdirSync(fx.dir).filter((n) => n !== 'manifest.json' && n !== 'manifest.sig.json' && n !== 'test-result.sig.json').sort(),
    );
    expect(m.versions.node).toBe(process.version);
    expect(m.versions.libpcap).toMatch(/libpcap version \d/);
    expect(m.versions.dependencies.tar).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.versions.airlock).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
    expect(m.host.hostname).toBe(os.hostname());
    expect(m.host.kernel).toContain(os.release());
    expect(m.firmware).toEqual(fx.result.firmware);
    expect(m.startedAt).toBe(fx.result.startedAt);
    expect(m.verdict).toBe('FAIL');
    expect(m.phases[1].assertions[1]).toEqual({ kind: 'no_radio', verdict: 'INCONCLUSIVE' });
    expect(m.signed).toBe(true);
    expect(m.publicKeyFingerprint).toBe(fingerprint);
    expect(m.testResult).toBe('test-result.sig.json');
  });

  it('the signature is a DSSE envelope of an in-toto Statement v1 over every file', () => {
    const env = JSON.parse(fs.readFileSync(path.join(fx.dir, 'manifest.sig.json'), 'utf8'));
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0].keyid).toBe(fingerprint);
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://airlock.invalid/attestation/run-evidence/v1');
    expect(st.predicate).toMatchObject({ runId: fx.result.runId, scenario: 'system-off', verdict: 'FAIL', signed: true, publicKeyFingerprint: fingerprint });
    expect(st.predicate.signature.publicKeyFingerprint).toBe(fingerprint);
    const sha = (n: string) => execFileSync('sha256sum', [path.join(fx.dir, n)]).toString().split(' ')[0];
    expect(st.subject).toContainEqual({ name: 'manifest.json', digest: { sha256: sha('manifest.json') } });
    expect(st.subject).toContainEqual({ name: 'result.json', digest: { sha256: sha('result.json') } });
    // Independent check of the signature with openssl over DSSE's PAE.
    const payload = Buffer.from(env.payload, 'base64');
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${env.payloadType.length} ${env.payloadType} ${payload.length} `), payload]);
    fs.writeFileSync(path.join(tmp, 'pae.bin'), pae);
    fs.writeFileSync(path.join(tmp, 'sig.bin'), Buffer.from(env.signatures[0].sig, 'base64'));
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(keys, 'airlock.pub'), '-rawin', '-in', path.join(tmp, 'pae.bin'), '-sigfile', path.join(tmp, 'sig.bin')]).toString();
    expect(out).toMatch(/Signature Verified Successfully/);
  });

  it('names every file with one byte flipped, of each kind, and exits 1', async () => {
    const names = fs.readdirSync(fx.dir).sort();
    expect(names).toEqual(expect.arrayContaining(['net-drone.pcap', 'power-psu.csv', 'radio-sdr.csv', 'mavlink-drone.tlog', 'timeline.jsonl', 'log.jsonl', 'result.json', 'scenario.yaml', 'rig.yaml', 'junit.xml', 'summary.md', 'report.html', 'manifest.json', 'manifest.sig.json', 'test-result.sig.json']));
    for (const name of names) {
      const dir = copyRun(`flip-${name}`);
      flipByte(path.join(dir, name));
      const r = await verify(dir);
      expect(r.code, `${name}: ${r.out}`).toBe(1);
      expect(r.out, name).toContain(name);
      expect(r.out.trim().split('\n').pop()).toBe('NOT VERIFIED');
      if (name !== 'manifest.json' && name !== 'manifest.sig.json' && name !== 'test-result.sig.json') expect(r.out).toMatch(new RegExp(`ALTERED\\s+${name.replace('.', '\\.')}`));
    }
  });

  it('names a deleted file and an added file', async () => {
    const dir = copyRun('delete-add');
    fs.rmSync(path.join(dir, 'power-psu.csv'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'added later\n');
    const r = await verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MISSING\s+power-psu\.csv/);
    expect(r.out).toMatch(/EXTRA\s+notes\.txt/);
    const d2 = copyRun('sig-deleted');
    fs.rmSync(path.join(d2, 'manifest.sig.json'));
    const r2 = await verify(d2);
    expect(r2.code).toBe(1);
    expect(r2.out).toMatch(/manifest\.sig\.json is missing/);
  });

  it('a run signed by a key that is not the trusted one is integrity only, exit 3', async () => {
    const other = path.join(tmp, 'other-keys');
    expect(await keygenCommand({ out: other }, memoryIO())).toBe(0);
    const r = await verify(fx.dir, path.join(other, 'airlock.pub'));
    expect(r.code).toBe(3);
    expect(r.out).toMatch(new RegExp(`INTEGRITY ONLY, signer not trusted: .* fingerprint ${fingerprint}, which is not among the 1 trusted key`));
  });

  it('a run re-sealed by a forger (files changed, manifest recomputed, unsigned) fails when the key is given', async () => {
    const dir = copyRun('forged');
    flipByte(path.join(dir, 'net-drone.pcap'));
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const sha = execFileSync('sha256sum', [path.join(dir, 'net-drone.pcap')]).toString().split(' ')[0];
    m.files.find((f: { name: string }) => f.name === 'net-drone.pcap').sha256 = sha;
    m.signed = false;
    delete m.publicKey;
    delete m.publicKeyFingerprint;
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
    fs.rmSync(path.join(dir, 'manifest.sig.json'));
    const r = await verify(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/UNSIGNED/);
  });

  it('an unsigned run says UNSIGNED plainly', async () => {
    const u = buildRunDir(path.join(tmp, 'unsigned'), tmp, {});
    const m = JSON.parse(fs.readFileSync(path.join(u.dir, 'manifest.json'), 'utf8'));
    expect(m.signed).toBe(false);
    expect(m.publicKeyFingerprint).toBeUndefined();
    expect(fs.existsSync(path.join(u.dir, 'manifest.sig.json'))).toBe(false);
    const r = await verify(u.dir, null);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/UNSIGNED/);
    expect(r.out.trim().split('\n').pop()).toBe('INTEGRITY ONLY, unsigned (verdicts not re-derived)');
  });

  it('exit 2 for input that is neither a run directory nor a bundle, or a bad key file', async () => {
    expect((await verify(path.join(tmp, 'nope'))).code).toBe(2);
    const junk = path.join(tmp, 'junk.tar.gz');
    fs.writeFileSync(junk, 'not an archive');
    expect((await verify(junk)).code).toBe(2);
    expect((await verify(fx.dir, path.join(tmp, 'junk.tar.gz'))).code).toBe(2);
  });

  it('--json prints the report as one JSON document', async () => {
    const dir = copyRun('json');
    fs.rmSync(path.join(dir, 'rig.yaml'));
    const io = memoryIO();
    expect(await verifyCommand({ path: dir, key: path.join(keys, 'airlock.pub'), json: true }, io, noReanalysis)).toBe(1);
    const rep = JSON.parse(io.stdout.join(''));
    expect(rep.verified).toBe(false);
    expect(rep.files.missing).toEqual(['rig.yaml']);
    expect(rep.signature.status).toBe('valid');
  });
});

describe('re-analysis', () => {
  const same = (): ReanalysisResult => ({
    verdict: fx.result.verdict,
    analyzerVersion: fx.result.analyzerVersion,
    phases: fx.result.phases.map((p) => ({ name: p.name, verdict: p.verdict, assertions: p.assertions.map((a) => ({ kind: a.kind, verdict: a.verdict })) })),
  });

  it('agreement under the same analyzer version verifies', async () => {
    const r = await verifyRun(fx.dir, { trustedKeys, reanalyze: async () => same() });
    expect(r.reanalysis.status).toBe('agrees');
    expect(r.verified).toBe(true);
  });

  it('a disagreement under the same version is a failure naming the assertion', async () => {
    const again = same();
    again.phases[0]!.assertions[0]!.verdict = 'PASS';
    const r = await verifyRun(fx.dir, { trustedKeys, reanalyze: async () => again });
    expect(r.reanalysis.status).toBe('differs');
    expect(r.verified).toBe(false);
    expect(r.reanalysis.differences.join('\n')).toMatch(/"powered" no_egress: recorded FAIL, re-analysis PASS/);
  });

  it('a disagreement under another version is reported, not counted as tampering', async () => {
    const again = same();
    again.analyzerVersion = 'test-analyzer-2';
    again.phases[1]!.assertions[1]!.verdict = 'PASS';
    const r = await verifyRun(fx.dir, { trustedKeys, reanalyze: async () => again });
    expect(r.reanalysis.status).toBe('differs-other-version');
    expect(r.reanalysis.message).toContain('re-analysis with version test-analyzer-2 differs');
    expect(r.verified).toBe(true);
  });

  it('without a re-analysis, verify says so and claims no agreement', async () => {
    const r = await verify(fx.dir);
    expect(r.out).toMatch(/re-analysis unavailable/);
    expect(r.out).not.toMatch(/agrees/);
  });

  it('verifyCommand passes the orchestrator\'s reanalyzeRun to verify when it loads', async () => {
    let called = '';
    const io = memoryIO();
    const code = await verifyCommand({ path: fx.dir, key: path.join(keys, 'airlock.pub'), json: false }, io, {
      loadReanalyze: async () => ({ reanalyze: async (d: string) => ((called = d), same()) }),
    });
    expect(code).toBe(0);
    expect(called).toBe(fx.dir);
    expect(io.stdout.join('')).toMatch(/re-analysis with version test-analyzer-1 agrees/);
    expect(io.stdout.join('').trim().split('\n').pop()).toBe('VERIFIED');
  });

  it('a re-analysis that fails is reported; it neither claims agreement nor counts as tampering', async () => {
    const r = await verifyRun(fx.dir, { trustedKeys, reanalyze: async () => { throw new Error('no analysisInput'); } });
    expect(r.reanalysis.status).toBe('error');
    expect(r.reanalysis.message).toMatch(/re-analysis failed, verdicts were not re-derived: no analysisInput/);
    expect(r.verified).toBe(true);
  });
});

describe('bundle', () => {
  it('is byte-identical for the same run directory, whatever its files\' times, modes or location', async () => {
    const a = path.join(tmp, 'a.tar.gz');
    const b = path.join(tmp, 'b.tar.gz');
    expect(await bundleCommand({ runDir: fx.dir, out: a }, memoryIO())).toBe(0);
    const moved = copyRun('bundle-copy');
    for (const n of fs.readdirSync(moved)) {
      fs.utimesSync(path.join(moved, n), new Date(2030, 1, 1), new Date(2031, 1, 1));
      fs.chmodSync(path.join(moved, n), 0o600);
    }
    expect(await bundleCommand({ runDir: moved, out: b }, memoryIO())).toBe(0);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    // gzip header: no name, no time.
    const gz = fs.readFileSync(a);
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[3]! & 0x08).toBe(0);
    const io = memoryIO();
    expect(await bundleCommand({ runDir: fx.dir, out: a }, io)).toBe(2); // never overwrites
  });

  it('verifies as a bundle, and unpacked elsewhere by GNU tar; a tampered bundle names the file', async () => {
    const bundle = path.join(tmp, 'run.tar.gz');
    const io = memoryIO();
    expect(await bundleCommand({ runDir: fx.dir, out: bundle }, io)).toBe(0);
    expect(io.stdout.join('').trim()).toBe(bundle);
    const r = await verify(bundle);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\(bundle; run directory 20261124T090010Z-system-off\)/);

    const listing = execFileSync('tar', ['-tvzf', bundle]).toString();
    expect(listing).toMatch(/-rw-r--r-- 0\/0 .* 2000-01-01 00:00 20261124T090010Z-system-off\/net-drone\.pcap/);

    const elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(elsewhere);
    execFileSync('tar', ['-xzf', bundle, '-C', elsewhere]);
    const unpacked = path.join(elsewhere, path.basename(fx.dir));
    expect((await verify(unpacked)).code).toBe(0);

    flipByte(path.join(unpacked, 'mavlink-drone.tlog'));
    const bad = path.join(tmp, 'tampered.tar.gz');
    execFileSync('tar', ['-czf', bad, '-C', elsewhere, path.basename(fx.dir)]);
    const t = await verify(bad);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/ALTERED\s+mavlink-drone\.tlog/);
  });

  it('refuses hostile bundles: links, absolute paths, ..', async () => {
    const src = path.join(tmp, 'hostile-src', 'run');
    fs.mkdirSync(src, { recursive: true });
    fs.copyFileSync(path.join(fx.dir, 'manifest.json'), path.join(src, 'manifest.json'));
    fs.symlinkSync('/etc/passwd', path.join(src, 'result.json'));
    const link = path.join(tmp, 'link.tar.gz');
    execFileSync('tar', ['-czf', link, '-C', path.dirname(src), 'run']);
    const r1 = await verify(link);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/SymbolicLink entries are not allowed/);

    // GNU tar strips '..' and leading '/' when creating; Python's TarInfo + addfile writes the name as given.
    const PY_TAR = [
      'import sys, tarfile',
      'with tarfile.open(sys.argv[1], "w:gz") as t:',
      '    ti = t.gettarinfo(sys.argv[2]); ti.name = sys.argv[3]',
      '    with open(sys.argv[2], "rb") as f: t.addfile(ti, f)',
    ].join('\n');
    const evil = path.join(tmp, 'hostile-src', 'evil.txt');
    fs.writeFileSync(evil, 'x');
    const mk = (out: string, arcname: string) =>
      execFileSync('python3', ['-c', PY_TAR, out, evil, arcname]);
    const dots = path.join(tmp, 'dots.tar.gz');
    mk(dots, 'run/../../evil.txt');
    const r2 = await verify(dots);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/'\.\.' in path/);

    const abs = path.join(tmp, 'abs.tar.gz');
    mk(abs, path.join(tmp, 'planted.txt'));
    const r3 = await verify(abs);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/absolute path/);
    expect(fs.existsSync(path.join(tmp, 'planted.txt'))).toBe(false);
    expect(fs.existsSync(path.join(os.tmpdir(), 'evil.txt'))).toBe(false);
  });
});

describe('secrets', () => {
  it('the private key never enters the run directory or its bundle', () => {
    const pem = fs.readFileSync(path.join(keys, 'airlock.key'), 'utf8');
    const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    // The raw 32-byte seed is the last 32 bytes of the PKCS8 DER.
    const seed = Buffer.from(b64, 'base64').subarray(-32);
    const needles = [b64, seed.toString('base64'), seed.toString('hex'), 'PRIVATE KEY'];
    for (const n of fs.readdirSync(fx.dir)) {
      const bytes = fs.readFileSync(path.join(fx.dir, n));
      const text = bytes.toString('latin1');
      for (const needle of needles) expect(text.includes(needle), `${n} contains ${needle.slice(0, 12)}...`).toBe(false);
      expect(bytes.includes(seed), `${n} contains the raw seed`).toBe(false);
    }
  });
});

describe('a manifest written before the key was given, then signed', () => {
  it('verifies, and says the manifest records signed: false while the signed statement names the key', async () => {
    const { writeManifest } = await import('../../src/evidence/manifest.js');
    const { signRun } = await import('../../src/evidence/signing.js');
    const { RunDirectory } = await import('../../src/evidence/run-directory.js');
    const pem = loadSigningKey({ keyFile: path.join(keys, 'airlock.key') })!;
    const run = RunDirectory.create(path.join(tmp, 'late-key'), 'late');
    run.writeText('timeline.jsonl', '{"event":"x"}\n');
    run.writeJson('result.json', { ...fx.result, runId: run.runId });
    writeManifest(run.path);
    signRun(run.path, pem);
    const given = await verify(run.path);
    expect(given.code, given.out).toBe(0);
    expect(given.out).toContain(`VALID: Ed25519 signature by trusted key ${fingerprint}`);
    const embedded = await verify(run.path, null);
    expect(embedded.code, embedded.out).toBe(3);
    expect(embedded.out).toMatch(/says signed: false \(written before the key was given\)/);
    flipByte(path.join(run.path, 'timeline.jsonl'));
    const bad = await verify(run.path);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/ALTERED\s+timeline\.jsonl/);
  });
});
