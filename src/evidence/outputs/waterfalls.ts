/** Output: one radio waterfall per SDR capture that wrote a sweep CSV, the phases marked. */
import { writeRadioWaterfalls } from '../../analysis/radio/index.js';
import type { RigConfig } from '../../config/types.js';
import type { RunOutput } from './output.js';

export function waterfallsOutput(sdrs: RigConfig['captures']['sdr']): RunOutput {
  return {
    name: 'waterfalls',
    write: async (record, runDir) => {
      await writeRadioWaterfalls({ runDir, sdrs, captures: record.captures, phases: record.phases });
    },
  };
}
