import { isObj } from './reader.js';
import { loadConfigSource } from './source.js';

export type ConfigKind = 'rig' | 'scenario' | 'suite' | 'controls' | 'unknown';

/** What a file is, by its top-level key (`scenario:`, `suite:`, else `rig:`); 'unknown' if unreadable or none. */
export function detectKind(file: string): ConfigKind {
  let data: unknown;
  try {
    data = loadConfigSource(file).data;
  } catch {
    return 'unknown';
  }
  return kindOf(data);
}

export function kindOf(data: unknown): ConfigKind {
  if (!isObj(data)) return 'unknown';
  // A scenario and a suite may name their rig with `rig:`, so they are recognised first.
  if ('scenario' in data) return 'suite' in data ? 'unknown' : 'scenario';
  if ('suite' in data) return 'suite';
  if ('rig' in data) return 'rig';
  // A control mapping (schema/controls.schema.json): checked by src/evidence/controls.ts.
  if ('controls' in data) return 'controls';
  return 'unknown';
}
