/** The evidence commands through the CLI's own argument parsing (src/cli/args.ts), as a certifier types them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadSigningKey } from '../../src/evidence/keys.js';
import { buildRunDir } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-evidence-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function airlock(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('airlock keygen / bundle / verify', () => {
  it('keygen, a signed run, bundle, verify with the public key; then a tampered copy', async () => {
    const keys = path.join(tmp, 'keys');
    const k = await airlock('keygen', '--out', keys);
    expect(k.code).toBe(0);
    expect(k.out.trim()).toMatch(/^[0-9a-f]{64}$/);
    const fx = buildRunDir(path.join(tmp, 'captures'), tmp, { signingKeyPem: loadSigningKey({ keyFile: path.join(keys, 'airlock.key') }) });

    const bundle = path.join(tmp, 'evidence.tar.gz');
    const b = await airlock('bundle', fx.dir, '--out', bundle);
    expect(b.code).toBe(0);
    expect(fs.existsSync(bundle)).toBe(true);

    const v = await airlock('verify', bundle, '--key', path.join(keys, 'airlock.pub'));
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toContain(`VALID: Ed25519 signature by trusted key ${k.out.trim()}`);
    expect(v.out).toMatch(/re-analysis/);

    const j = await airlock('verify', fx.dir, '--key', path.join(keys, 'airlock.pub'), '--json');
    expect(JSON.parse(j.out).signature.status).toBe('valid');

    fs.appendFileSync(path.join(fx.dir, 'timeline.jsonl'), '{"event":"late edit"}\n');
    const t = await airlock('verify', fx.dir, '--key', path.join(keys, 'airlock.pub'));
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/ALTERED\s+timeline\.jsonl/);

    expect((await airlock('verify', path.join(tmp, 'missing'))).code).toBe(2);
  });
});
