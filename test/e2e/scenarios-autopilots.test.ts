/**
 * The flying scenarios on the virtual rig with the vehicle as PX4 (rig/virtual-px4.yaml): each
 * passes, the link asked for its streams and they came (timeline), and the autopilot's identity
 * is in result.json. The same record of ArduPilot (rig/virtual.yaml) is checked on the runs of
 * scenarios-flight.test.ts, which fly it already.
 */
import { describe } from 'vitest';
import { cleanScenarioTest, linkRecord } from './scenario-runs.js';

describe.concurrent('the flying scenarios against both autopilot flavours', () => {
  for (const name of ['system-off', 'hover-with-app', 'post-flight-sync']) {
    cleanScenarioTest(name, { rig: 'rig/virtual-px4.yaml', label: 'PX4', check: (dir) => linkRecord(dir, 'PX4', '1.15.2') });
  }
});
