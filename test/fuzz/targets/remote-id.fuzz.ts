/** Open Drone ID (ASTM F3411) message packs and single messages, as Wi-Fi and BLE carry them. */
import { decodeOdid, odidFields } from '../../../src/analysis/radio/index.js';
import { check, onlyInputError } from './common.js';

export function fuzz(data: Buffer): void {
  try {
    const info = decodeOdid(data);
    if (info) {
      const fields = odidFields(info);
      for (const [k, v] of Object.entries(fields)) check(typeof v === 'string' || Number.isFinite(v), `${k} = ${v}`);
    }
  } catch (e) {
    onlyInputError(e);
  }
}
