/**
 * Ed25519 keys for signing run directories (node:crypto only). The private key is PKCS8 PEM and
 * never enters a run directory or a log; the public key is SPKI PEM and is identified by its
 * fingerprint: SHA-256 of the SPKI DER, lowercase hex.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import { KeyError } from './errors.js';

export const SIGNING_KEY_ENV = 'AIRLOCK_SIGNING_KEY';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
  fingerprint: string;
}

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKeyPem, publicKeyPem, fingerprint: fingerprintOf(publicKey) };
}

/** SHA-256 of the SPKI DER encoding of a public key, hex. */
export function fingerprintOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', 'the signing key is not a PEM private key', { cause: e });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `the signing key is ${key.asymmetricKeyType}, not Ed25519 (make one with: airlock keygen --out DIR)`);
  }
  return key;
}

/** A public key from SPKI PEM (a private key PEM is accepted too; its public half is used). */
export function publicKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', 'the public key is not a PEM public key', { cause: e });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `the public key is ${key.asymmetricKeyType}, not Ed25519`);
  }
  return key;
}

export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyFromPem(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

function readKeyFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeyError('AIRLOCK_EVIDENCE_NO_KEY', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
  }
}

/**
 * The run's signing key: `--key FILE`, else env AIRLOCK_SIGNING_KEY (PEM text or a path to one).
 * Returns the PEM text, checked to be an Ed25519 private key, or undefined for an unsigned run.
 */
export function loadSigningKey(opts: { keyFile?: string; env?: NodeJS.ProcessEnv }): string | undefined {
  let pem: string | undefined;
  if (opts.keyFile) pem = readKeyFile(opts.keyFile, 'signing key');
  else {
    const v = (opts.env ?? process.env)[SIGNING_KEY_ENV];
    if (v && v.trim()) {
      if (v.includes('-----BEGIN')) pem = v;
      else {
        // Never echo the variable: it may hold key material in a form we do not recognise.
        try {
          pem = fs.readFileSync(v.trim(), 'utf8');
        } catch (e) {
          throw new KeyError('AIRLOCK_EVIDENCE_NO_KEY', `${SIGNING_KEY_ENV} is neither PEM text nor the path of a readable file`, { cause: e });
        }
      }
    }
  }
  if (pem === undefined) return undefined;
  privateKeyFromPem(pem); // validate now, before the run starts
  return pem;
}

/** A public key for verify: a file with SPKI PEM. */
export function loadPublicKey(file: string): string {
  const pem = readKeyFile(file, 'public key');
  publicKeyFromPem(pem);
  return pem;
}
