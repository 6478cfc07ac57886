/**
 * The ground and idle scenarios of the library pass on the virtual rig with clean firmware
 * (shortened). standby-on-ground's run is test/e2e/proof-of-sight.test.ts's, checked there the
 * same way (expectCleanRun) before that file damages copies of it.
 */
import { describe } from 'vitest';
import { cleanScenarioTest } from './scenario-runs.js';

const GROUND = ['app-connected-no-flight', 'firmware-update-offered', 'baseline-all-off', 'app-backgrounded'];

describe.concurrent('the scenario library on the virtual rig, clean firmware: on the ground', () => {
  for (const name of GROUND) cleanScenarioTest(name);
});
