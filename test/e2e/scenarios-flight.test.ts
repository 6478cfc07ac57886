/** The flying scenarios of the library pass on the virtual rig with clean firmware (shortened). */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanScenarioTest, linkRecord, SHORT } from './scenario-runs.js';

const FLIGHT = ['system-off', 'hover-with-app', 'power-cut-recovery', 'post-flight-sync'];

describe.concurrent('the scenario library on the virtual rig, clean firmware: flights', () => {
  it('ships exactly the scenarios these tests shorten', () => {
    const shipped = readdirSync('scenarios').map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(shipped).toEqual(Object.keys(SHORT).sort());
  });
  // rig/virtual.yaml flies ArduPilot: post-flight-sync checks its stream requests and identity
  // too (PX4's: scenarios-autopilots.test.ts).
  for (const name of FLIGHT) {
    cleanScenarioTest(name, name === 'post-flight-sync' ? { check: (dir) => linkRecord(dir, 'ARDUPILOTMEGA', '4.5.7') } : {});
  }
});
