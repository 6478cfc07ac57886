import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import AjvModule from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { detectKind, loadRig, loadScenario, schemaPath, type RigConfig } from '../../src/config/index.js';

const G = 'test/fixtures/config/good/';
const abs = (f: string) => resolve(G, f);
const at = (line: number, col: number) => ({ file: `${G}scenarios/system-off.yaml`, line, col });

describe('the example rig file', () => {
  it('loads to the expected RigConfig', () => {
    const expected: RigConfig = {
      file: abs('rig/virtual.yaml'),
      name: 'virtual',
      virtual: true,
      lab: { subnets: ['10.231.0.0/24', 'fd0a:231::/64'], sinkhole: '10.231.0.1', sinkhole6: 'fd0a:231::1', names: ['update.lab'] },
      devices: {
        drone: {
          name: 'drone',
          address: '10.231.0.10',
          address6: 'fd0a:231::10',
          power: 'drone',
          button: 'drone-button',
          link: 'drone',
          firmware: 'clean',
          firmwareParams: { delay: '20s' },
          actions: { 'app: background': 'adb shell input keyevent 3' },
        },
        controller: { name: 'controller', address: '10.231.0.20', power: 'controller' },
        phone: { name: 'phone', address: '10.231.0.30', power: 'phone' },
      },
      power: {
        drone: { name: 'drone', driver: 'scpi', port: 'sim:psu-a', channel: 1, volts: 12, currentLimit: 3, baudRate: 115200, timeoutMs: 1000 },
        controller: { name: 'controller', driver: 'korad', port: 'sim:psu-b', channel: 1, volts: 7.4, currentLimit: 2, timeoutMs: 1000 },
        phone: { name: 'phone', driver: 'lcus', port: 'sim:relay', channel: 1, timeoutMs: 1000 },
      },
      buttons: { 'drone-button': { name: 'drone-button', driver: 'lcus', port: 'sim:relay', channel: 2, timeoutMs: 1000 } },
      links: {
        drone: { name: 'drone', endpoint: 'serial:sim:drone-telemetry:57600', systemId: 1, gcsSystemId: 255, heartbeatTimeoutMs: 3000, autopilot: 'ardupilot' },
      },
      captures: {
        network: { drone: { name: 'drone', interface: 'drone', filter: 'not arp', bufferSize: 33_554_432, snaplen: 65535 } },
        sdr: {
          air: {
            name: 'air',
            driver: 'virtual',
            bands: [
              { name: '2.4GHz', lowHz: 2.4e9, highHz: 2.4835e9 },
              { name: '5.8GHz', lowHz: 5.725e9, highHz: 5.85e9 },
            ],
            binWidthHz: 1e6,
            args: [],
            command: '/usr/bin/hackrf_sweep',
          },
        },
        wifi: { monitor: { name: 'monitor', interface: 'virtual', channel: 6 } },
        ble: { sniffer: { name: 'sniffer', driver: 'command', command: 'nrf-sniffer --pcap -' } },
      },
      powerSampleHz: 10,
      canaryIntervalMs: 2000,
      // The virtual rig's default: one injection point per device, crossing its own port's capture.
      canaries: {
        intervalMs: 2000,
        protocols: ['udp', 'tcp', 'icmp', 'dns'],
        labTarget: '10.231.0.1',
        outsideTarget: '203.0.113.99',
        // The lab carries IPv6 (lab.sinkhole6): the rounds go over IPv6 too, from every device with an address6.
        labTarget6: 'fd0a:231::1',
        outsideTarget6: '2001:db8::99',
        inject: {
          drone: { name: 'drone', host: 'drone', crosses: ['drone'] },
          controller: { name: 'controller', host: 'controller', crosses: [] },
          phone: { name: 'phone', host: 'phone', crosses: [] },
        },
      },
      captureLossMax: 0.001,
    };
    const rig = loadRig(G + 'rig/virtual.yaml');
    expect(rig).toEqual(expected);
    // The order of power channels is the safing order.
    expect(Object.keys(rig.power)).toEqual(['drone', 'controller', 'phone']);
  });

  it('applies the documented defaults', () => {
    const rig = loadRig(G + 'rig/minimal.yaml');
    expect(rig.virtual).toBe(false);
    expect(rig.lab.names).toEqual([]);
    expect(rig.power.psu).toEqual({ name: 'psu', driver: 'manual', channel: 1, timeoutMs: 1000 });
    expect(rig.links.fc).toEqual({ name: 'fc', endpoint: 'udp:0.0.0.0:14550', systemId: 1, gcsSystemId: 255, heartbeatTimeoutMs: 3000, autopilot: 'ardupilot' });
    expect(rig.captures.network.lan).toEqual({ name: 'lan', interface: 'eth1', bufferSize: 32 * 1024 * 1024, snaplen: 65535 });
    expect(rig.buttons).toEqual({});
    expect(rig.captures.sdr).toEqual({});
    expect(rig.powerSampleHz).toBe(10);
    expect(rig.canaryIntervalMs).toBe(2000);
    expect(rig.captureLossMax).toBe(0.001);
    expect(rig.canaries).toEqual({
      intervalMs: 2000,
      protocols: ['udp', 'tcp', 'icmp', 'dns'],
      labTarget: '192.168.50.1',
      outsideTarget: '203.0.113.99',
      // No lab IPv6 address to send to: no IPv6 canaries (the outside one has its default all the same).
      outsideTarget6: '2001:db8::99',
      inject: { bench: { name: 'bench', interface: 'eth1', source: '192.168.50.250', crosses: ['lan'] } },
    });
  });
});

describe('the example scenario file', () => {
  const s = loadScenario(G + 'scenarios/system-off.yaml');

  it('has its header, params, settings and defaults', () => {
    expect(s.file).toBe(abs('scenarios/system-off.yaml'));
    expect(s.name).toBe('system-off');
    expect(s.description).toBe('Boot, short flight, soft power-off, long quiet phase.\n');
    expect(s.rig).toBe(abs('rig/virtual.yaml'));
    expect(s.params).toEqual({ boot: '5s', quiet: '30s' });
    expect(s.settings).toEqual({ airplane_mode: 'off', vendor_local_data_mode: 'on' });
    expect(s.settleMs).toBe(500);
    expect(s.phases.map((p) => [p.name, p.pos])).toEqual([
      ['boot', at(10, 5)],
      ['quiet', at(32, 5)],
    ]);
  });

  it('converts every step kind, with default timeouts and positions', () => {
    expect(s.phases[0]!.steps).toEqual([
      { kind: 'power', channel: 'drone', action: 'on', timeoutMs: 10_000, pos: at(12, 9) },
      { kind: 'press', button: 'drone-button', pattern: 'short-long', timeoutMs: 10_000, pos: at(13, 9) },
      { kind: 'wait_for', condition: { heartbeat: 'drone' }, timeoutMs: 20_000, pos: at(14, 9) },
      { kind: 'dwell', durationMs: 5000, timeoutMs: 10_000, pos: at(15, 9) },
      { kind: 'mavlink', link: 'drone', command: 'arm', params: {}, retries: 3, timeoutMs: 30_000, pos: at(16, 9) },
      { kind: 'mark', text: 'drone booted', timeoutMs: 1000, pos: at(17, 9) },
      { kind: 'prompt', text: 'Put the phone in airplane mode', timeoutMs: 600_000, pos: at(18, 9) },
      { kind: 'device', device: 'phone', action: 'app: background', timeoutMs: 10_000, pos: at(19, 9) },
      { kind: 'lab', service: 'uplink', state: 'on', timeoutMs: 10_000, pos: at(20, 9) },
    ]);
    expect(s.phases[1]!.steps).toEqual([
      { kind: 'press', button: 'drone-button', pattern: { custom: [100, 200, 1500] }, timeoutMs: 10_000, pos: at(34, 9) },
      { kind: 'power', channel: 'phone', action: 'cycle', offTimeMs: 3000, timeoutMs: 10_000, pos: at(35, 9) },
      { kind: 'wait_for', condition: { currentBelow: { channel: 'drone', amps: 0.02 } }, timeoutMs: 30_000, pos: at(36, 9) },
      { kind: 'dwell', durationMs: 30_000, timeoutMs: 60_000, pos: at(37, 9) },
      { kind: 'mark', text: 'quiet begins', timeoutMs: 2000, pos: at(38, 9) },
      { kind: 'prompt', text: 'Check the LEDs', timeoutMs: 300_000, pos: at(39, 9) },
      { kind: 'lab', service: 'update-server', state: 'off', timeoutMs: 10_000, pos: at(40, 9) },
    ]);
  });

  it('converts every assertion kind', () => {
    expect(s.phases[0]!.assertions).toEqual([
      { kind: 'no_egress', allowNames: ['update.lab'], devices: ['drone'], pos: at(22, 9) },
      { kind: 'no_dns', allowNames: [], pos: at(23, 9) },
      { kind: 'no_mavlink', link: 'drone', pos: at(24, 9) },
      { kind: 'no_radio', bands: ['2.4GHz'], threshold: { aboveFloorDb: 10 }, minDurationMs: 2000, pos: at(25, 9) },
      { kind: 'radio_only', transmitters: ['02:00:00:00:00:10'], pos: at(26, 9) },
      { kind: 'no_remote_id', pos: at(27, 9) },
      { kind: 'no_probe_requests', pos: at(28, 9) },
      { kind: 'current_below', channel: 'drone', amps: 0.05, pos: at(29, 9) },
      { kind: 'current_above', channel: 'drone', amps: 0.2, pos: at(30, 9) },
      { kind: 'traffic_only_to', hosts: ['controller', 'sinkhole', '10.231.0.0/24'], pos: at(31, 9) },
    ]);
    expect(s.phases[1]!.assertions).toEqual([{ kind: 'no_radio', bands: ['2.4GHz', '5.8GHz'], threshold: { dbm: -70 }, minDurationMs: 0, pos: at(42, 9) }]);
    expect(s.runAssertions).toEqual([{ kind: 'no_egress', allowNames: [], pos: at(44, 5) }]);
  });

  it('YAML 1.2: on and off are the strings "on" and "off"', () => {
    const raw = parse(readFileSync(G + 'scenarios/system-off.yaml', 'utf8')) as { phases: Array<{ steps: Array<Record<string, { action?: unknown }>> }> };
    expect(raw.phases[0]!.steps[0]!.power!.action).toBe('on');
    expect(s.phases[0]!.steps[0]).toMatchObject({ action: 'on' });
  });
});

describe('detectKind', () => {
  it('by the top-level key', () => {
    expect(detectKind(G + 'rig/virtual.yaml')).toBe('rig');
    expect(detectKind(G + 'scenarios/system-off.yaml')).toBe('scenario'); // has `rig:` too
    expect(detectKind('test/fixtures/config/suite.yaml')).toBe('suite');
    expect(detectKind('test/fixtures/config/bad/not-config.yaml')).toBe('unknown');
    expect(detectKind('test/fixtures/config/bad/syntax.yaml')).toBe('unknown');
    expect(detectKind('test/fixtures/config/no-such-file.yaml')).toBe('unknown');
  });
});

describe('the published schemas (what editors use)', () => {
  const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
  const compile = (kind: 'rig' | 'scenario') =>
    new (Ajv as unknown as new (o: object) => { compile: (s: object) => ((d: unknown) => boolean) & { errors?: unknown } })({
      allErrors: true,
      allowUnionTypes: true,
    }).compile(JSON.parse(readFileSync(schemaPath(kind), 'utf8')) as object);

  it('accept the example files as written, ${params} included', () => {
    const rigV = compile('rig');
    const scenV = compile('scenario');
    expect(rigV(parse(readFileSync(G + 'rig/virtual.yaml', 'utf8')))).toBe(true);
    expect(scenV(parse(readFileSync(G + 'scenarios/system-off.yaml', 'utf8')))).toBe(true);
    expect(scenV(parse(readFileSync(G + 'scenarios/params.yaml', 'utf8')))).toBe(true);
  });

  it('reject an unknown key and a bare number where a unit is required', () => {
    const scenV = compile('scenario');
    expect(scenV({ scenario: 'x', phases: [{ name: 'a', steps: [{ dwell: '5s' }] }] })).toBe(true);
    expect(scenV({ scenario: 'x', phases: [{ name: 'a', steps: [{ dwell: 5 }] }] })).toBe(false);
    expect(scenV({ scenario: 'x', phases: [{ name: 'a', steps: [{ dwell: '5s' }] }], asert: [] })).toBe(false);
  });
});

describe('YAML anchors', () => {
  it('an x- key holds an anchor that phases reuse; positions point at the anchored original', () => {
    const s = loadScenario(G + 'scenarios/anchors.yaml');
    const F = `${G}scenarios/anchors.yaml`;
    expect(s.phases.map((p) => p.assertions)).toEqual([
      [
        { kind: 'no_egress', allowNames: [], pos: { file: F, line: 4, col: 5 } },
        { kind: 'current_below', channel: 'drone', amps: 0.02, pos: { file: F, line: 5, col: 5 } },
      ],
      [
        { kind: 'no_egress', allowNames: [], pos: { file: F, line: 4, col: 5 } },
        { kind: 'current_below', channel: 'drone', amps: 0.02, pos: { file: F, line: 5, col: 5 } },
      ],
    ]);
  });

  it('an alias bomb is refused, not expanded', () => {
    const f = 'test/fixtures/config/bad/alias-bomb.yaml';
    const t0 = performance.now();
    expect(() => loadRig(f)).toThrow(/expands to more than 20000 nodes/);
    // A bound against hanging (the bomb expands to billions of nodes), not a speed figure: it
    // holds with a wide margin even on a loaded machine.
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
