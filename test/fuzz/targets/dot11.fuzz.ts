/**
 * 802.11 frames as a monitor-mode capture holds them: the first input byte picks the link type
 * (radiotap or bare 802.11), the rest is one record. The capture container is fuzzed by the
 * capture target; this one spends its time in the frame decoder.
 */
import { decodeWifiRecord } from '../../../src/analysis/radio/index.js';
import { check, onlyInputError } from './common.js';

const LINK_TYPES = [127, 105];

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  try {
    const f = decodeWifiRecord(data.subarray(1), LINK_TYPES[data[0]! % LINK_TYPES.length]!, 1, 1_764_000_000_000);
    if (f) check(JSON.stringify(f) !== undefined, 'frame serialises');
  } catch (e) {
    onlyInputError(e);
  }
}
