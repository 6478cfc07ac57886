/**
 * Ed25519 keys for signing run directories (node:crypto only). The private key is PKCS8 PEM and
 * never enters a run directory or a log; the public key is SPKI PEM and is identified by its
 * fingerprint: SHA-256 of the SPKI DER, lowercase hex.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import { KeyError } from './errors.js';

export const SIGNING_KEY_ENV = 'AIRLOCK_SIGNING_KEY';
/** A keyring file the lab distributes: the public keys verify trusts when no --key or --keyring is given. */
export const KEYRING_ENV = 'AIRLOCK_KEYRING';

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

/** The fingerprint of a private key's public half (PKCS8 PEM in). */
export function fingerprintOfPrivateKey(privateKeyPem: string): string {
  return fingerprintOf(createPublicKey(privateKeyFromPem(privateKeyPem)));
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

/** A public key the verifier trusts, and where it came from (for the report). */
export interface TrustedKey {
  pem: string;
  fingerprint: string;
  /** The file it was read from (`--key`, `--keyring` or AIRLOCK_KEYRING). */
  source: string;
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * A keyring: one or more SPKI PEM public keys in one text file (concatenated, as `cat *.pub`
 * makes it); lines outside the PEM blocks are comments. Every block must be an Ed25519 key.
 */
export function parseKeyring(text: string, origin: string): TrustedKey[] {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `${origin} holds a private key: a keyring holds public keys only (airlock.pub)`);
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (!blocks.length) throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `${origin} holds no PEM public key (-----BEGIN PUBLIC KEY-----)`);
  return blocks.map((pem, i) => {
    let key: KeyObject;
    try {
      key = publicKeyFromPem(pem);
    } catch (e) {
      throw new KeyError('AIRLOCK_EVIDENCE_BAD_KEY', `${origin}: key ${i + 1}: ${(e as Error).message}`, { cause: e });
    }
    return { pem: pem + '\n', fingerprint: fingerprintOf(key), source: origin };
  });
}

/**
 * The keys verify trusts: every `--key` file and `--keyring` file; when neither is given, the
 * keyring named by AIRLOCK_KEYRING. An empty list means no signer is trusted.
 */
export function loadTrustedKeys(opts: { keyFiles?: string[]; keyringFiles?: string[]; env?: NodeJS.ProcessEnv }): TrustedKey[] {
  const files = [...(opts.keyFiles ?? []), ...(opts.keyringFiles ?? [])];
  if (!files.length) {
    const v = (opts.env ?? process.env)[KEYRING_ENV]?.trim();
    if (v) files.push(v);
  }
  const out: TrustedKey[] = [];
  for (const f of files) {
    for (const k of parseKeyring(readKeyFile(f, 'public key file'), f)) if (!out.some((o) => o.fingerprint === k.fingerprint)) out.push(k);
  }
  return out;
}
