/**
 * A scenario against a rig: every channel, button, link, device, capture and band the scenario
 * names must exist in the rig. Errors point into the scenario file.
 */
import { isIP } from 'node:net';
import { CONFIG_CODES, ConfigError, type ConfigIssue } from './errors.js';
import { parseCidr } from './reader.js';
import { sortIssues } from './rig.js';
import { itemOrigins, scenarioPosition } from './scenario.js';
import { formatPath, type Seg } from './source.js';
import type { Assertion, RigConfig, ScenarioConfig, SourcePos, Step } from './types.js';

export function checkScenarioAgainstRig(s: ScenarioConfig, r: RigConfig): void {
  const issues: ConfigIssue[] = [];
  const at = (item: Step | Assertion, rel: Seg[], fallbackPath: Seg[]): { pos: SourcePos; path: string } => {
    const o = itemOrigins.get(item);
    if (!o) return { pos: item.pos, path: formatPath(fallbackPath) };
    const path = [...o.base, ...rel];
    // The item as a whole is pointed at by its kind key (`- no_radio: ...`).
    return { pos: rel.length === 0 ? o.index.keyAt(path) : o.index.at(path), path: formatPath(path) };
  };
  const fail = (item: Step | Assertion, rel: Seg[], fallbackPath: Seg[], message: string) => {
    const { pos, path } = at(item, rel, fallbackPath);
    issues.push({ file: pos.file, line: pos.line, col: pos.col, path, message });
  };
  const has = (table: Record<string, unknown>) => {
    const names = Object.keys(table);
    return `(the rig has: ${names.length ? names.join(', ') : 'none'})`;
  };
  const ref = (item: Step | Assertion, rel: Seg[], fb: Seg[], name: string, table: Record<string, unknown>, what: string) => {
    if (!Object.prototype.hasOwnProperty.call(table, name)) fail(item, rel, fb, `unknown ${what} "${name}" ${has(table)}`);
  };
  const bands = new Set(Object.values(r.captures.sdr).flatMap((c) => c.bands.map((b) => b.name)));
  const bandTable = Object.fromEntries([...bands].map((b) => [b, true]));

  const checkStep = (st: Step, fb: Seg[]) => {
    switch (st.kind) {
      case 'power':
        ref(st, ['channel'], fb, st.channel, r.power, 'power channel');
        break;
      case 'press':
        ref(st, ['button'], fb, st.button, r.buttons, 'button');
        break;
      case 'wait_for': {
        const c = st.condition;
        if ('heartbeat' in c) ref(st, ['heartbeat'], fb, c.heartbeat, r.links, 'link');
        else if ('armed' in c) ref(st, ['armed'], fb, c.armed, r.links, 'link');
        else if ('disarmed' in c) ref(st, ['disarmed'], fb, c.disarmed, r.links, 'link');
        else if ('landed' in c) ref(st, ['landed'], fb, c.landed, r.links, 'link');
        else if ('altitudeAbove' in c) ref(st, ['altitude_above', 'link'], fb, c.altitudeAbove.link, r.links, 'link');
        else if ('currentAbove' in c) ref(st, ['current_above', 'channel'], fb, c.currentAbove.channel, r.power, 'power channel');
        else if ('currentBelow' in c) ref(st, ['current_below', 'channel'], fb, c.currentBelow.channel, r.power, 'power channel');
        else if ('console' in c) ref(st, ['console', 'device'], fb, c.console.device, r.devices, 'device');
        break;
      }
      case 'mavlink':
        ref(st, ['link'], fb, st.link, r.links, 'link');
        break;
      case 'device':
        ref(st, ['device'], fb, st.device, r.devices, 'device');
        break;
      default:
        break;
    }
  };

  const needCapture = (a: Assertion, fb: Seg[], ok: boolean, what: string) => {
    if (!ok) fail(a, [], fb, `${a.kind} needs ${what}, and the rig has none`);
  };
  const net = Object.keys(r.captures.network).length > 0;
  const wifi = Object.keys(r.captures.wifi).length > 0;
  const ble = Object.keys(r.captures.ble).length > 0;
  const sdr = Object.keys(r.captures.sdr).length > 0;

  const checkAssertion = (a: Assertion, fb: Seg[]) => {
    switch (a.kind) {
      case 'no_egress':
        needCapture(a, fb, net, 'a network capture (captures.network)');
        (a.devices ?? []).forEach((d, k) => ref(a, ['devices', k], fb, d, r.devices, 'device'));
        break;
      case 'no_dns':
        needCapture(a, fb, net, 'a network capture (captures.network)');
        break;
      case 'traffic_only_to':
        needCapture(a, fb, net, 'a network capture (captures.network)');
        a.hosts.forEach((h, k) => {
          if (isIP(h) || parseCidr(h) || h === 'sinkhole') return;
          if (!Object.prototype.hasOwnProperty.call(r.devices, h)) {
            fail(a, ['hosts', k], fb, `"${h}" is neither a device of the rig, "sinkhole", an address nor a CIDR ${has(r.devices)}`);
          }
        });
        break;
      case 'no_mavlink':
        ref(a, ['link'], fb, a.link, r.links, 'link');
        break;
      case 'no_radio':
        if (!sdr) needCapture(a, fb, false, 'an SDR capture (captures.sdr)');
        else a.bands.forEach((b, k) => ref(a, ['bands', k], fb, b, bandTable, 'band'));
        break;
      case 'radio_only':
        needCapture(a, fb, wifi || ble, 'a Wi-Fi or BLE capture (captures.wifi or captures.ble)');
        break;
      case 'no_remote_id':
        needCapture(a, fb, wifi || ble, 'a Wi-Fi or BLE capture (captures.wifi or captures.ble)');
        break;
      case 'no_probe_requests':
        needCapture(a, fb, wifi, 'a Wi-Fi monitor capture (captures.wifi)');
        break;
      case 'current_below':
      case 'current_above':
        ref(a, ['channel'], fb, a.channel, r.power, 'power channel');
        break;
    }
  };

  s.phases.forEach((ph, i) => {
    ph.allow?.hosts.forEach((h, k) => {
      if (isIP(h) || parseCidr(h) || h === 'sinkhole' || Object.prototype.hasOwnProperty.call(r.devices, h)) return;
      const pos = scenarioPosition(s, ['phases', i, 'allow', 'hosts', k]);
      issues.push({ file: pos.file, line: pos.line, col: pos.col, path: formatPath(['phases', i, 'allow', 'hosts', k]), message: `"${h}" is neither a device of the rig, "sinkhole", an address nor a CIDR ${has(r.devices)}` });
    });
    ph.steps.forEach((st, j) => checkStep(st, ['phases', i, 'steps', j, st.kind]));
    ph.assertions.forEach((a, j) => checkAssertion(a, ['phases', i, 'assert', j, a.kind]));
  });
  s.runAssertions.forEach((a, j) => checkAssertion(a, ['assert', j, a.kind]));
  if (issues.length > 0) throw new ConfigError(CONFIG_CODES.invalid, sortIssues(issues));
}
