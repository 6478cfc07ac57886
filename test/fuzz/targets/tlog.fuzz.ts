/** MAVLink telemetry logs (.tlog): the reader the no_mavlink judge and the reports use. */
import { readTlog, summarizeTlog } from '../../../src/devices/flight/index.js';
import { check, inputFile, onlyInputError } from './common.js';

export async function fuzz(data: Buffer): Promise<void> {
  const file = inputFile('input.tlog', data);
  try {
    const stats = await readTlog(
      file,
      (r) => {
        check(Number.isFinite(r.timeUs), `record ${r.index}: time ${r.timeUs}`);
        check(r.start >= 0 && r.start + r.length <= r.buf.length, `record ${r.index}: packet outside its buffer`);
      },
      { chunkSize: 1024 },
    );
    check(stats.packets <= stats.records, 'more packets than records');
    await summarizeTlog(file);
  } catch (e) {
    onlyInputError(e);
  }
}
