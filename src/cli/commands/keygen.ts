/** `airlock keygen [--out DIR]`: writes airlock.key (PKCS8 PEM, 0600) and airlock.pub (SPKI PEM); prints the fingerprint. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AirlockError } from '../../errors.js';
import { generateKeyPair, KeyError } from '../../evidence/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export async function keygenCommand(opts: { out?: string }, io: CommandIO): Promise<number> {
  const dir = path.resolve(opts.out ?? '.');
  const keyFile = path.join(dir, 'airlock.key');
  const pubFile = path.join(dir, 'airlock.pub');
  try {
    for (const f of [keyFile, pubFile]) {
      if (fs.existsSync(f)) throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `${f} exists; refusing to overwrite a key`);
    }
    fs.mkdirSync(dir, { recursive: true });
    const kp = generateKeyPair();
    // 'wx' + mode: the private key is never readable by others, not even for a moment.
    fs.writeFileSync(keyFile, kp.privateKeyPem, { flag: 'wx', mode: 0o600 });
    fs.chmodSync(keyFile, 0o600); // in case the umask widened nothing but a previous ACL did
    fs.writeFileSync(pubFile, kp.publicKeyPem, { flag: 'wx', mode: 0o644 });
    io.out(kp.fingerprint);
    io.err(`private key: ${keyFile} (keep it secret; pass it with --key or AIRLOCK_SIGNING_KEY)`);
    io.err(`public key:  ${pubFile} (give it to whoever verifies your bundles)`);
    io.err(`fingerprint: SHA-256 of the public key (SPKI DER): ${kp.fingerprint}`);
    return EXIT.pass;
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
