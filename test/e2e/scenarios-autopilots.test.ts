/**
 * The flying scenarios on the virtual rig with the vehicle as PX4 (rig/virtual-px4.yaml) and as
 * ArduPilot (rig/virtual.yaml, also flown by scenarios-flight.test.ts): each passes, the link
 * asked for its streams and they came (timeline), and the autopilot's identity is in result.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { cleanScenarioTest } from './scenario-runs.js';

function linkRecord(runDir: string, autopilot: string, version: string) {
  const timeline = readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = timeline.filter((e) => e.event === 'mavlink_stream_request');
  expect(requests.map((e) => e.message).slice(0, 3)).toEqual(['GLOBAL_POSITION_INT', 'EXTENDED_SYS_STATE', 'SYS_STATUS']);
  const arrived = timeline.find((e) => e.event === 'mavlink_streams') as { streams: { message: string; state: string }[] } | undefined;
  expect(arrived?.streams.map((s) => `${s.message} ${s.state}`)).toEqual(['GLOBAL_POSITION_INT arriving', 'EXTENDED_SYS_STATE arriving', 'SYS_STATUS arriving']);
  const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { links: Record<string, { identity?: Record<string, unknown> }> };
  expect(result.links.drone!.identity).toMatchObject({ autopilot, vehicleType: 'QUADROTOR', flightSwVersion: version, source: 'AUTOPILOT_VERSION' });
}

describe('the flying scenarios against both autopilot flavours', () => {
  for (const name of ['system-off', 'hover-with-app', 'post-flight-sync']) {
    cleanScenarioTest(name, { rig: 'rig/virtual-px4.yaml', label: 'PX4', check: (dir) => linkRecord(dir, 'PX4', '1.15.2') });
  }
  cleanScenarioTest('post-flight-sync', { label: 'ArduPilot', check: (dir) => linkRecord(dir, 'ARDUPILOTMEGA', '4.5.7') });
});
