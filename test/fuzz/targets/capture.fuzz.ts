/** pcap and pcapng: the streaming capture reader every network and radio analysis starts from. */
import { readCapture } from '../../../src/analysis/index.js';
import { check, inputFile, onlyInputError } from './common.js';

export async function fuzz(data: Buffer): Promise<void> {
  const file = inputFile('input.pcap', data);
  try {
    // A small read buffer makes records cross buffer boundaries, as in a large capture.
    const info = await readCapture(
      file,
      (p) => {
        check(Number.isFinite(p.timeMs), `packet ${p.index}: time ${p.timeMs}`);
        check(p.caplen >= 0 && p.offset >= 0 && p.offset + p.caplen <= p.buf.length, `packet ${p.index}: frame outside its buffer`);
        check(p.caplen <= p.origLen || p.origLen === 0 || p.caplen <= 262144, `packet ${p.index}: caplen ${p.caplen}`);
      },
      { bufferSize: 4096 },
    );
    check(info.packets >= 0, 'packet count');
    if (info.firstMs !== undefined) check(Number.isFinite(info.firstMs) && Number.isFinite(info.lastMs!), 'first/last time');
  } catch (e) {
    onlyInputError(e);
  }
}
