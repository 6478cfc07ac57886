import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkScenarioAgainstRig, loadRig, loadScenario } from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const B = 'test/fixtures/config/bad/';
const tmp = mkdtempSync(join(tmpdir(), 'airlock-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('files that are not YAML text', () => {
  it('a missing file', () => {
    const e = configErrorOf(() => loadScenario(B + 'no-such-file.yaml'));
    expect(e.code).toBe('AIRLOCK_CONFIG_NOT_FOUND');
    expect(e.lines).toEqual([`${B}no-such-file.yaml: no such file`]);
  });

  it('a directory', () => {
    const e = configErrorOf(() => loadRig(tmp));
    expect(e.lines).toEqual([`${tmp}: is a directory, not a file`]);
  });

  it('an empty file (0 bytes) and a file of comments only', () => {
    const f = join(tmp, 'empty.yaml');
    writeFileSync(f, '');
    const e = configErrorOf(() => loadRig(f));
    expect(e.code).toBe('AIRLOCK_CONFIG_EMPTY');
    expect(e.lines).toEqual([`${f}:1:1: the file is empty`]);
    const c = configErrorOf(() => loadScenario(B + 'comments-only.yaml'));
    expect(c.lines).toEqual([`${B}comments-only.yaml:1:1: the file is empty`]);
  });

  it('a binary file (NUL byte) names the position of the first NUL', () => {
    const f = join(tmp, 'binary.yaml');
    writeFileSync(f, Buffer.concat([Buffer.from('rig: x\nlab:\n  sub'), Buffer.from([0, 1, 2, 0xff]), Buffer.from('nets: []\n')]));
    const e = configErrorOf(() => loadRig(f));
    expect(e.code).toBe('AIRLOCK_CONFIG_BINARY');
    expect(e.lines).toEqual([`${f}:3:6: this looks like a binary file, not YAML text (a NUL byte at offset 17)`]);
  });

  it('a file that is not UTF-8', () => {
    const f = join(tmp, 'latin1.yaml');
    // "café" in Latin-1: 0xe9 followed by a newline is not a UTF-8 sequence.
    writeFileSync(f, Buffer.concat([Buffer.from('rig: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const e = configErrorOf(() => loadRig(f));
    expect(e.code).toBe('AIRLOCK_CONFIG_BINARY');
    expect(e.lines).toEqual([`${f}:1:9: this looks like a binary file, not YAML text (a byte that is not UTF-8 at offset 8)`]);
  });

  it('a 100 MB file is refused before it is read', () => {
    const f = join(tmp, 'huge.yaml');
    writeFileSync(f, 'rig: x\n');
    truncateSync(f, 100 * 1024 * 1024); // sparse: costs no disk and no time
    const t0 = performance.now();
    const e = configErrorOf(() => loadScenario(f));
    expect(performance.now() - t0).toBeLessThan(500);
    expect(e.code).toBe('AIRLOCK_CONFIG_TOO_LARGE');
    expect(e.lines).toEqual([`${f}: file is 104857600 bytes; config files larger than 1 MiB (1048576 bytes) are refused`]);
  });

  it('a file just over 1 MiB is refused, one at 1 MiB is parsed', () => {
    const f = join(tmp, 'edge.yaml');
    const body = 'rig: x\n#';
    writeFileSync(f, body + 'x'.repeat(1024 * 1024 - body.length) + '\n');
    expect(configErrorOf(() => loadRig(f)).code).toBe('AIRLOCK_CONFIG_TOO_LARGE');
    writeFileSync(f, body + 'x'.repeat(1024 * 1024 - body.length - 1) + '\n');
    expect(configErrorOf(() => loadRig(f)).code).toBe('AIRLOCK_CONFIG_INVALID');
  });
});

describe('YAML syntax errors', () => {
  it('bad indentation', () => {
    const e = configErrorOf(() => loadScenario(B + 'syntax.yaml'));
    expect(e.code).toBe('AIRLOCK_CONFIG_SYNTAX');
    expect(e.lines).toEqual([`${B}syntax.yaml:4:1: YAML: Sequence item without - indicator`]);
  });

  it('an unclosed flow sequence', () => {
    const e = configErrorOf(() => loadScenario(B + 'syntax-eof.yaml'));
    expect(e.lines).toEqual([`${B}syntax-eof.yaml:5:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  });

  it('an unquoted ${param} inside { } gets a hint', () => {
    const e = configErrorOf(() => loadScenario(B + 'flow-param.yaml'));
    expect(e.lines).toEqual([
      `${B}flow-param.yaml:8:50: YAML: Unexpected flow-map-start at node end (inside { } or [ ], a parameter must be quoted: write "\${name}")`,
    ]);
  });

  it('duplicate keys and multiple documents', () => {
    expect(configErrorOf(() => loadScenario(B + 'dup-key.yaml')).lines).toEqual([`${B}dup-key.yaml:6:1: YAML: Map keys must be unique`]);
    expect(configErrorOf(() => loadRig(B + 'multi-doc.yaml')).lines).toEqual([
      `${B}multi-doc.yaml:2:1: YAML: Source contains multiple documents; please use YAML.parseAllDocuments()`,
    ]);
  });
});

describe('all errors of a file at once, each at its key', () => {
  it('wrong types', () => {
    const e = configErrorOf(() => loadScenario(B + 'wrong-types.yaml'));
    expect(e.code).toBe('AIRLOCK_CONFIG_INVALID');
    expect(e.lines).toEqual([
      `${B}wrong-types.yaml:4:11: phases[0].name: expected text, got the number 7`,
      `${B}wrong-types.yaml:6:42: phases[0].steps[0].power.action: expected one of: on, off, cycle; got the text "of"`,
      `${B}wrong-types.yaml:7:56: phases[0].steps[1].mavlink.retries: expected a number, got the text "many"`,
      `${B}wrong-types.yaml:8:15: phases[0].steps[2].mark: expected text, or a mapping; got the number 5`,
      `${B}wrong-types.yaml:9:13: phases[0].assert: expected a list, got a mapping`,
    ]);
  });

  it('units: bare numbers, negative and zero durations, wrong units', () => {
    const e = configErrorOf(() => loadScenario(B + 'units.yaml'));
    expect(e.lines).toEqual([
      `${B}units.yaml:2:9: settle: "-1s": a duration cannot be negative`,
      `${B}units.yaml:6:16: phases[0].steps[0].dwell: 30 has no unit: write a duration with its unit, such as 500ms, 30s, 10m or 2h`,
      `${B}units.yaml:7:16: phases[0].steps[1].dwell: "0s": the dwell must be greater than zero`,
      `${B}units.yaml:8:59: phases[0].steps[2].power.off_time: "2 sec" is not a duration: write it such as 500ms, 30s, 10m or 2h`,
      `${B}units.yaml:9:61: phases[0].steps[3].wait_for.current_below.limit: 50 has no unit: write a current with its unit, such as 250uA, 50mA or 3A`,
      `${B}units.yaml:9:76: phases[0].steps[3].wait_for.timeout: "10S" is not a duration: write it such as 500ms, 30s, 10m or 2h`,
      `${B}units.yaml:10:57: phases[0].steps[4].press.pattern[1]: 5 has no unit: write a duration with its unit, such as 500ms, 30s, 10m or 2h`,
      `${B}units.yaml:12:49: phases[0].assert[0].no_radio.threshold: "floor+ten" is not a threshold: write floor+10dB (above the noise floor) or -70dBm`,
      `${B}units.yaml:12:74: phases[0].assert[0].no_radio.min_duration: "-2s": a duration cannot be negative`,
      `${B}units.yaml:13:49: phases[0].assert[1].current_below.limit: "5mV" is not a current: write it such as 250uA, 50mA or 3A`,
    ]);
  });

  it('unknown keys, unknown kinds, several keys in a step, duplicate phase names', () => {
    const e = configErrorOf(() => loadScenario(B + 'structure.yaml'));
    expect(e.lines).toEqual([
      `${B}structure.yaml:3:5: phases[0]: missing required key "steps"`,
      `${B}structure.yaml:4:5: phases[0].stesp: unknown key "stesp" (expected one of: name, description, steps, assert, allow)`,
      `${B}structure.yaml:5:11: phases[1].name: duplicate phase name "boot" (first used at line 3); phase names must be unique`,
      `${B}structure.yaml:7:9: phases[1].steps[0]: a step has exactly one key, found 2: power, dwell (write each as its own list item)`,
      `${B}structure.yaml:9:9: phases[1].steps[1].sleep: unknown step kind "sleep" (expected one of: power, press, wait_for, dwell, mavlink, mark, prompt, device, lab)`,
      `${B}structure.yaml:10:9: phases[1].steps[2]: an empty step: a step has exactly one key naming its kind`,
      `${B}structure.yaml:11:19: phases[1].steps[3].wait_for: wait_for takes exactly one condition, found 2: heartbeat, armed (use one wait_for step each)`,
      `${B}structure.yaml:13:22: phases[1].assert[0].no_egress.allow_name: unknown key "allow_name" (did you mean "allow_names"? expected one of: allow_names, devices)`,
      `${B}structure.yaml:14:9: phases[1].assert[1].no_leaks: unknown assertion kind "no_leaks" (expected one of: no_egress, no_dns, no_mavlink, no_radio, radio_only, no_remote_id, no_probe_requests, current_below, current_above, traffic_only_to)`,
      `${B}structure.yaml:17:14: phases[2].steps[0].lab: lab takes exactly one service, found 2: uplink, update-server (use one lab step each)`,
      `${B}structure.yaml:18:1: asert: unknown key "asert" (did you mean "assert"? expected one of: scenario, description, rig, params, settings, settle, phases, assert)`,
    ]);
  });

  it('a rig file with bad subnets, addresses, references, drivers, units and endpoints', () => {
    const e = configErrorOf(() => loadRig(B + 'rig-bad.yaml'));
    expect(e.lines).toEqual([
      `${B}rig-bad.yaml:3:28: lab.subnets[1]: "10.0.0.0/33" is not a subnet (write 10.231.0.0/24 or fd0a:231::/64)`,
      `${B}rig-bad.yaml:7:14: devices.drone.address: 192.168.1.10 is not inside the lab subnets (10.231.0.0/24, 10.0.0.0/33)`,
      `${B}rig-bad.yaml:8:12: devices.drone.power: unknown power channel "dron" (the rig has: drone, phone)`,
      `${B}rig-bad.yaml:9:5: devices.drone.buton: unknown key "buton" (did you mean "button"? expected one of: address, address6, vlan, power, button, link, firmware, firmware_params, actions)`,
      `${B}rig-bad.yaml:11:14: devices.phone.address: address 10.231.0.1 is already used by lab.sinkhole`,
      `${B}rig-bad.yaml:13:10: power.drone: missing required key "port" (driver scpi needs one)`,
      `${B}rig-bad.yaml:13:33: power.drone.volts: 12 has no unit: write a voltage with its unit, such as 500mV, 3.3V or 12V`,
      `${B}rig-bad.yaml:13:52: power.drone.current_limit: "-3A": a current cannot be negative`,
      `${B}rig-bad.yaml:14:20: power.phone.driver: expected one of: scpi, korad, lcus, netswitch, manual; got the text "tplink"`,
      `${B}rig-bad.yaml:16:22: links.drone.endpoint: the text "serial:/dev/ttyUSB0" is not a link endpoint (write serial:PATH:BAUD, udp:HOST:PORT, udpout:HOST:PORT or tcp:HOST:PORT)`,
      `${B}rig-bad.yaml:16:64: links.drone.heartbeat_timeout: "0s": the heartbeat timeout must be greater than zero`,
      `${B}rig-bad.yaml:19:72: captures.sdr.air.bands[0].high: the band's high edge must be above its low edge`,
      `${B}rig-bad.yaml:20:20: power_sample_rate: 10 has no unit: write a frequency with its unit, such as 10Hz, 100kHz, 433MHz or 2.4GHz`,
    ]);
  });

  it('a scenario naming channels, buttons, links, devices, bands the rig lacks (positions in the scenario)', () => {
    const s = loadScenario(B + 'refs.yaml');
    const rig = loadRig(s.rig!);
    const e = configErrorOf(() => checkScenarioAgainstRig(s, rig));
    expect(e.code).toBe('AIRLOCK_CONFIG_INVALID');
    expect(e.lines).toEqual([
      `${B}refs.yaml:6:27: phases[0].steps[0].power.channel: unknown power channel "dron" (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:7:26: phases[0].steps[1].press.button: unknown button "power-button" (the rig has: drone-button)`,
      `${B}refs.yaml:8:32: phases[0].steps[2].wait_for.heartbeat: unknown link "drone2" (the rig has: drone)`,
      `${B}refs.yaml:9:40: phases[0].steps[3].wait_for.console.device: unknown device "tablet" (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:10:26: phases[0].steps[4].mavlink.link: unknown link "rc" (the rig has: drone)`,
      `${B}refs.yaml:11:27: phases[0].steps[5].device.device: unknown device "tablet" (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:13:29: phases[0].assert[0].no_radio.bands[0]: unknown band "900MHz" (the rig has: 2.4GHz, 5.8GHz)`,
      `${B}refs.yaml:14:39: phases[0].assert[1].no_egress.devices[1]: unknown device "tablet" (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:15:35: phases[0].assert[2].current_below.channel: unknown power channel "controler" (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:16:48: phases[0].assert[3].traffic_only_to.hosts[1]: "gateway" is neither a device of the rig, "sinkhole", an address nor a CIDR (the rig has: drone, controller, phone)`,
      `${B}refs.yaml:18:25: assert[0].no_mavlink.link: unknown link "telemetry" (the rig has: drone)`,
    ]);
  });

  it('names, empty lists and mappings, numeric ranges', () => {
    expect(configErrorOf(() => loadScenario(B + 'names.yaml')).lines).toEqual([
      `${B}names.yaml:1:11: scenario: the text "my scenario" is not a valid name (use letters, digits, '.', '_' and '-', starting with a letter or digit)`,
      `${B}names.yaml:2:11: params["1x"]: "1x" is not a valid parameter name (letters, digits and '_', not starting with a digit)`,
      `${B}names.yaml:2:22: params.ok: expected text or a number, got a list`,
      `${B}names.yaml:3:9: phases: must not be empty`,
    ]);
    expect(configErrorOf(() => loadRig(B + 'rig-ranges.yaml')).lines).toEqual([
      `${B}rig-ranges.yaml:2:17: lab.subnets: must not be empty`,
      `${B}rig-ranges.yaml:3:10: devices: must not be empty`,
      `${B}rig-ranges.yaml:5:40: power.p.channel: the number 0 must be at least 1`,
      `${B}rig-ranges.yaml:7:40: links.l.system_id: the number 300 must be at most 255`,
      `${B}rig-ranges.yaml:7:60: links.l.gcs_system_id: expected a whole number, got the number 1.5`,
      `${B}rig-ranges.yaml:8:3: links["bad name"]: "bad name" is not a valid name (use letters, digits, '.', '_' and '-', starting with a letter or digit)`,
    ]);
  });

  it('a file of the other kind is refused in one line', () => {
    expect(configErrorOf(() => loadRig('test/fixtures/config/good/scenarios/params.yaml')).lines).toEqual([
      `test/fixtures/config/good/scenarios/params.yaml:2:1: this is a scenario file, not a rig file (a rig file starts with "rig:")`,
    ]);
    expect(configErrorOf(() => loadScenario('test/fixtures/config/good/rig/minimal.yaml')).lines).toEqual([
      `test/fixtures/config/good/rig/minimal.yaml:2:1: this is a rig file, not a scenario file (a scenario file starts with "scenario:")`,
    ]);
  });
});
