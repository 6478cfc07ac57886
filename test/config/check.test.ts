import { describe, expect, it } from 'vitest';
import { checkScenarioAgainstRig, loadRig, loadScenario } from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const G = 'test/fixtures/config/good/';

describe('checkScenarioAgainstRig', () => {
  it('passes the example scenario against the example rig', () => {
    const s = loadScenario(G + 'scenarios/system-off.yaml');
    expect(() => checkScenarioAgainstRig(s, loadRig(s.rig!))).not.toThrow();
  });

  it('refuses assertions the rig has no capture for, pointing at each assertion', () => {
    const s = loadScenario(G + 'scenarios/needs-captures.yaml');
    const e = configErrorOf(() => checkScenarioAgainstRig(s, loadRig(s.rig!)));
    const F = `${G}scenarios/needs-captures.yaml`;
    expect(e.lines).toEqual([
      `${F}:8:9: phases[0].assert[0].no_egress: no_egress needs a network capture (captures.network), and the rig has none`,
      `${F}:9:9: phases[0].assert[1].no_radio: no_radio needs an SDR capture (captures.sdr), and the rig has none`,
      `${F}:10:9: phases[0].assert[2].no_probe_requests: no_probe_requests needs a Wi-Fi monitor capture (captures.wifi), and the rig has none`,
      `${F}:11:9: phases[0].assert[3].no_remote_id: no_remote_id needs a Wi-Fi or BLE capture (captures.wifi or captures.ble), and the rig has none`,
    ]);
  });

  it('the same scenario passes against a rig that has the captures', () => {
    const s = loadScenario(G + 'scenarios/needs-captures.yaml');
    const rig = loadRig(G + 'rig/virtual.yaml');
    expect(() => checkScenarioAgainstRig(s, rig)).not.toThrow();
  });
});
