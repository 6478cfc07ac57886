/** The flying scenarios of the library pass on the virtual rig with clean firmware (shortened). */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanScenarioTest, SHORT } from './scenario-runs.js';

const FLIGHT = ['system-off', 'hover-with-app', 'power-cut-recovery', 'post-flight-sync'];

describe('the scenario library on the virtual rig, clean firmware: flights', () => {
  it('ships exactly the scenarios these tests shorten', () => {
    const shipped = readdirSync('scenarios').map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(shipped).toEqual(Object.keys(SHORT).sort());
  });
  for (const name of FLIGHT) cleanScenarioTest(name);
});
