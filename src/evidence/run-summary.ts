/**
 * What the reports' first page says about a run beyond result.json: the devices on the bench
 * (from the run's copy of rig.yaml) and who signed it. At run time the signer is the key the run
 * was given and its trust is not yet known (a verifier decides); `airlock report` fills trust in
 * from a verification with the keys the reader trusts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { RunResult } from './result.js';

export interface DeviceIdentity {
  name: string;
  addresses: string[];
  firmware?: string;
  sha256?: string;
}

export interface SignerInfo {
  /** SHA-256 of the signing key's SPKI DER, hex; absent for an unsigned run. */
  fingerprint?: string;
  /** 'trusted' / 'not-trusted' after a verification; 'unchecked' when written at run time. */
  trust: 'trusted' | 'not-trusted' | 'unchecked' | 'unsigned';
  /** One line for a person. */
  text: string;
}

/** The devices of the run's rig.yaml with their lab addresses and the firmware recorded for each. */
export function deviceIdentities(runDir: string, r: RunResult): DeviceIdentity[] {
  const out = new Map<string, DeviceIdentity>();
  try {
    const rig = parse(fs.readFileSync(path.join(runDir, 'rig.yaml'), 'utf8')) as { devices?: Record<string, { address?: unknown; address6?: unknown }> } | null;
    for (const [name, d] of Object.entries(rig?.devices ?? {})) {
      const addresses = [d?.address, d?.address6].filter((a): a is string => typeof a === 'string');
      out.set(name, { name, addresses });
    }
  } catch {
    /* no or unreadable rig copy: the firmware records still name the devices */
  }
  for (const fw of r.firmware) {
    const d = out.get(fw.device) ?? { name: fw.device, addresses: [] };
    d.firmware = fw.value;
    d.sha256 = fw.sha256;
    out.set(fw.device, d);
  }
  return [...out.values()];
}

export function signerAtRunTime(fingerprint: string | undefined): SignerInfo {
  return fingerprint
    ? { fingerprint, trust: 'unchecked', text: `signed by key ${fingerprint}; whether that key is trusted is decided by the verifier (airlock verify --key or --keyring)` }
    : { trust: 'unsigned', text: 'unsigned: the run carries no signature' };
}
