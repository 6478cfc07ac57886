/**
 * DSSE envelopes carrying in-toto Statements v1, so standard supply-chain tooling can check a run
 * directory's signature too. Spec: https://github.com/secure-systems-lab/dsse (protocol.md,
 * envelope.md) and https://github.com/in-toto/attestation (spec/v1/statement.md).
 */
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

export interface DsseEnvelope {
  payload: string; // base64
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

export interface InTotoStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

/** DSSE pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (lengths in bytes, ASCII decimal). */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function signEnvelope(payload: Buffer, payloadType: string, key: KeyObject, keyid: string): DsseEnvelope {
  const sig = cryptoSign(null, pae(payloadType, payload), key);
  return { payload: payload.toString('base64'), payloadType, signatures: [{ keyid, sig: sig.toString('base64') }] };
}

/** The envelope's payload bytes, or an explanation of why the envelope is malformed. */
export function envelopePayload(env: unknown): { payload: Buffer; envelope: DsseEnvelope } | { error: string } {
  const e = env as Partial<DsseEnvelope> | null;
  if (!e || typeof e !== 'object' || typeof e.payload !== 'string' || typeof e.payloadType !== 'string' || !Array.isArray(e.signatures)) {
    return { error: 'not a DSSE envelope (payload, payloadType, signatures)' };
  }
  if (!/^[A-Za-z0-9+/=_-]*$/.test(e.payload)) return { error: 'payload is not base64' };
  return { payload: Buffer.from(e.payload, 'base64'), envelope: e as DsseEnvelope };
}

/** True when one of the envelope's signatures verifies under the key. */
export function verifyEnvelope(envelope: DsseEnvelope, payload: Buffer, key: KeyObject): boolean {
  const msg = pae(envelope.payloadType, payload);
  for (const s of envelope.signatures) {
    if (!s || typeof s.sig !== 'string') continue;
    try {
      if (cryptoVerify(null, msg, key, Buffer.from(s.sig, 'base64'))) return true;
    } catch {
      /* a malformed signature does not verify */
    }
  }
  return false;
}
