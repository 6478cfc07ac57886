/**
 * Whole radio captures as `analyze` reads them: Wi-Fi monitor files and BLE sniffer files,
 * where state crosses records (BLE 5 extended advertising chains, Remote ID message packs split
 * over frames). The per-record decoders are fuzzed faster by the dot11 and ble targets.
 */
import { readBleCapture, readWifiCapture } from '../../../src/analysis/radio/index.js';
import { inputFile, onlyInputError } from './common.js';

export async function fuzz(data: Buffer): Promise<void> {
  const file = inputFile('radio.pcap', data);
  for (const read of [readWifiCapture, readBleCapture]) {
    try {
      await read(file);
    } catch (e) {
      onlyInputError(e);
    }
  }
}
