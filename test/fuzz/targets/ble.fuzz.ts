/**
 * BLE advertising records: the first input byte picks the link type (bare link layer, with the
 * pseudo-header, Nordic sniffer), the rest is one record.
 */
import { decodeBleRecord } from '../../../src/analysis/radio/index.js';
import { check, onlyInputError } from './common.js';

const LINK_TYPES = [251, 256, 272];

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  try {
    const a = decodeBleRecord(data.subarray(1), LINK_TYPES[data[0]! % LINK_TYPES.length]!, 1, 1_764_000_000_000);
    if (a && a !== 'data') check(JSON.stringify(a) !== undefined, 'advert serialises');
  } catch (e) {
    onlyInputError(e);
  }
}
