import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { memoryIO } from '../../src/cli/io.js';
import { ALL_CANARY_PROTOCOLS } from '../../src/config/rig.js';
import { CANARY_PROTOCOLS } from '../../src/analysis/canary.js';

const G = 'test/fixtures/config/good/';
const B = 'test/fixtures/config/bad/';
const tmp = mkdtempSync(join(tmpdir(), 'airlock-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('airlock validate', () => {
  it('prints ok for each valid file and exits 0', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [G + 'rig/virtual.yaml', G + 'scenarios/system-off.yaml'] }, io);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual([`ok ${G}rig/virtual.yaml`, `ok ${G}scenarios/system-off.yaml`]);
    expect(code).toBe(0);
  });

  it('prints every error of every file and exits 2', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'dup-key.yaml', G + 'rig/minimal.yaml', B + 'refs.yaml', B + 'not-config.yaml', B + 'gone.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stdout).toEqual([`ok ${G}rig/minimal.yaml`]);
    expect(io.stderr[0]).toBe(`${B}dup-key.yaml:6:1: YAML: Map keys must be unique`);
    // refs.yaml is valid alone; its 11 problems come from the cross-check with its rig.
    expect(io.stderr.filter((l) => l.startsWith(`${B}refs.yaml:`))).toHaveLength(11);
    expect(io.stderr).toContain(`${B}refs.yaml:6:27: phases[0].steps[0].power.channel: unknown power channel "dron" (the rig has: drone, controller, phone)`);
    expect(io.stderr).toContain(`${B}not-config.yaml:1:1: not a rig, scenario, suite or control mapping file: expected a top-level "rig:", "scenario:", "suite:" or "controls:" key`);
    expect(io.stderr[io.stderr.length - 1]).toBe(`${B}gone.yaml: no such file`);
  });

  it('refuses a rig with a network capture that no canary crosses, naming the capture', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'no-canary-route.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}no-canary-route.yaml:11:5: captures.network.uplink: no canary crosses capture "uplink": name it in a canaries.inject.<point>.crosses list, or a silent capture here proves nothing`,
    ]);
  });

  it('refuses a lab that carries IPv6 where no IPv6 canary crosses a capture, or no IPv6 target exists (a filter or mirror hiding IPv6 would show nothing)', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'no-ipv6-canary.yaml', B + 'no-ipv6-target.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}no-ipv6-canary.yaml:13:5: captures.network.uplink: no IPv6 canary crosses capture "uplink" though the lab carries IPv6 (lab.subnets has fd61::/64): give an injection point that crosses it a source6, or a capture here that hides IPv6 proves nothing`,
      `${B}no-ipv6-target.yaml:6:3: lab: the lab carries IPv6 (lab.subnets has fd0a:232::/64) but no canary goes over IPv6: set lab.sinkhole6 (or canaries.lab_target6), or a capture that hides IPv6 proves nothing`,
    ]);
  });

  it('refuses canaries that leave out a protocol, naming what is missing (a filter or mirror hiding it would show nothing), and dns where the gateway sinkhole log is fetched', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'canary-protocols-subset.yaml', B + 'sinkhole-log-no-dns-canary.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}canary-protocols-subset.yaml:14:14: canaries.protocols: leaves out tcp, icmp, dns: every round must send all four of udp, tcp, icmp, dns, or a capture filter or mirror that hides a left-out protocol shows nothing (list all four, or leave protocols out)`,
      `${B}sinkhole-log-no-dns-canary.yaml:19:14: canaries.protocols: leaves out dns: every round must send all four of udp, tcp, icmp, dns, or a capture filter or mirror that hides a left-out protocol shows nothing; and lab.sinkhole_log is set: the DNS canaries are what shows the gateway sinkhole received this run's traffic (list all four, or leave protocols out)`,
    ]);
    // Any order is fine; a duplicate is refused (the schema's uniqueItems).
    const rig = readFileSync(B + 'canary-protocols-subset.yaml', 'utf8');
    writeFileSync(join(tmp, 'proto-order.yaml'), rig.replace('protocols: [udp]', 'protocols: [dns, icmp, tcp, udp]'));
    writeFileSync(join(tmp, 'proto-dup.yaml'), rig.replace('protocols: [udp]', 'protocols: [udp, tcp, icmp, dns, udp]'));
    const ok = memoryIO();
    expect(await validateCommand({ files: [join(tmp, 'proto-order.yaml')] }, ok)).toBe(0);
    const dup = memoryIO();
    expect(await validateCommand({ files: [join(tmp, 'proto-dup.yaml')] }, dup)).toBe(2);
    expect(dup.stderr.join('\n')).toMatch(/canaries\.protocols.*duplicate/);
    // The rig's list is the one the canary sender sends.
    expect([...ALL_CANARY_PROTOCOLS]).toEqual([...CANARY_PROTOCOLS]);
  });

  it('refuses capture_loss_max outside 0%..100% (150% would turn the capture-loss check off)', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'capture-loss-max-over.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}capture-loss-max-over.yaml:12:19: capture_loss_max: "150%" is outside 0%..100%: capture loss is a share of the TCP data a capture saw acknowledged, so a limit above 100% turns the check off`,
    ]);
    const rig = readFileSync(B + 'capture-loss-max-over.yaml', 'utf8');
    writeFileSync(join(tmp, 'loss-100.yaml'), rig.replace('150%', '100%'));
    writeFileSync(join(tmp, 'loss-neg.yaml'), rig.replace('150%', '-1%'));
    expect(await validateCommand({ files: [join(tmp, 'loss-100.yaml')] }, memoryIO())).toBe(0);
    const neg = memoryIO();
    expect(await validateCommand({ files: [join(tmp, 'loss-neg.yaml')] }, neg)).toBe(2);
    expect(neg.stderr.join('\n')).toContain('capture_loss_max');
  });

  it('refuses a capture filter on a real rig (not port 443 lets every canary through and hides HTTPS)', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'filter-on-real-rig.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}filter-on-real-rig.yaml:11:36: captures.network.drone-port.filter: a capture filter hides traffic no canary can vouch for (canaries show only that their own UDP, TCP, ICMP and DNS packets pass it): a capture that must show nothing left the lab takes every frame; remove it`,
    ]);
  });

  it('refuses a blind-capture fault (for tests, virtual rig only) on a real rig, naming the capture', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'fault-on-real-rig.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}fault-on-real-rig.yaml:7:36: devices.drone.vlan: \`vlan\` is for tests and works on the virtual rig only (it tags the device's link); on a real bench the switch decides`,
      `${B}fault-on-real-rig.yaml:10:36: captures.network.drone-port.fault: \`fault\` is for tests and works on the virtual rig only (it makes this capture blind on purpose); remove it from a real rig file`,
    ]);
  });

  it('refuses a mirror that drops a VLAN the captured port does not carry', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [B + 'mirror-drops-untagged-vlan.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stderr).toEqual([
      `${B}mirror-drops-untagged-vlan.yaml:11:60: captures.network.drone.fault.mirror_drops_vlan: this capture's port carries no VLAN 30: name a device's port as the interface and give that device vlan: 30`,
    ]);
  });

  it('--rig overrides the scenario\'s own rig', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: [G + 'scenarios/needs-captures.yaml'], rig: G + 'rig/virtual.yaml' }, io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    const io2 = memoryIO();
    expect(await validateCommand({ files: [G + 'scenarios/needs-captures.yaml'] }, io2)).toBe(2);
    expect(io2.stderr).toHaveLength(4);
  });

  it('--set reaches the scenario; an undeclared name is an error', async () => {
    const io = memoryIO();
    expect(await validateCommand({ files: [G + 'scenarios/params.yaml'], set: { dwell: '10m' } }, io)).toBe(0);
    const io2 = memoryIO();
    expect(await validateCommand({ files: [G + 'scenarios/params.yaml'], set: { dwel: '10m' } }, io2)).toBe(2);
    expect(io2.stderr).toEqual([`${G}scenarios/params.yaml: --set dwel: unknown parameter "dwel" (did you mean "dwell"? the scenario declares: dwell, limit, tries)`]);
  });

  it('without rig: or --rig, uses rig/virtual.yaml relative to the working directory', async () => {
    const dir = join(tmp, 'lab');
    mkdirSync(join(dir, 'rig'), { recursive: true });
    mkdirSync(join(dir, 'scenarios'), { recursive: true });
    copyFileSync(G + 'rig/virtual.yaml', join(dir, 'rig/virtual.yaml'));
    writeFileSync(join(dir, 'scenarios/s.yaml'), 'scenario: s\nphases:\n  - name: a\n    steps:\n      - power: { channel: drone, action: on }\n      - power: { channel: pump, action: off }\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const io = memoryIO();
      expect(await validateCommand({ files: ['scenarios/s.yaml'] }, io)).toBe(2);
      expect(io.stderr).toEqual(['scenarios/s.yaml:6:27: phases[0].steps[1].power.channel: unknown power channel "pump" (the rig has: drone, controller, phone)']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a scenario whose rig is invalid reports the rig\'s errors once', async () => {
    const dir = join(tmp, 'badrig');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rig.yaml'), 'rig: r\nlab: { subnets: [10.0.0.0/24] }\ndevices: { d: { power: p } }\n');
    writeFileSync(join(dir, 'a.yaml'), 'scenario: a\nrig: rig.yaml\nphases: [{ name: x, steps: [{ dwell: 1s }] }]\n');
    writeFileSync(join(dir, 'b.yaml'), 'scenario: b\nrig: rig.yaml\nphases: [{ name: x, steps: [{ dwell: 1s }] }]\n');
    const io = memoryIO();
    const files = [join(dir, 'a.yaml'), join(dir, 'b.yaml'), join(dir, 'rig.yaml')];
    expect(await validateCommand({ files }, io)).toBe(2);
    expect(io.stderr).toEqual([
      `${files[2]}:3:24: devices.d.power: unknown power channel "p" (the rig has: none)`,
      `${files[0]}: cannot be checked against its rig ${files[2]}: the rig file is not valid`,
      `${files[1]}: cannot be checked against its rig ${files[2]}: the rig file is not valid`,
    ]);
    expect(io.stdout).toEqual([]);
  });

  it('a suite: every scenario with its set values against the suite\'s rig', async () => {
    const io = memoryIO();
    expect(await validateCommand({ files: ['test/fixtures/config/suite.yaml'] }, io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual(['ok test/fixtures/config/suite.yaml']);
  });

  it('a suite whose set names an undeclared parameter, or whose scenario lacks captures in its rig', async () => {
    const io = memoryIO();
    expect(await validateCommand({ files: [B + 'suite-bad-set.yaml'] }, io)).toBe(2);
    expect(io.stdout).toEqual([]);
    expect(io.stderr).toEqual([
      `${G}scenarios/params.yaml: --set dwel: unknown parameter "dwel" (did you mean "dwell"? the scenario declares: dwell, limit, tries)`,
      `${G}scenarios/needs-captures.yaml:8:9: phases[0].assert[0].no_egress: no_egress needs a network capture (captures.network), and the rig has none`,
      `${G}scenarios/needs-captures.yaml:9:9: phases[0].assert[1].no_radio: no_radio needs an SDR capture (captures.sdr), and the rig has none`,
      `${G}scenarios/needs-captures.yaml:10:9: phases[0].assert[2].no_probe_requests: no_probe_requests needs a Wi-Fi monitor capture (captures.wifi), and the rig has none`,
      `${G}scenarios/needs-captures.yaml:11:9: phases[0].assert[3].no_remote_id: no_remote_id needs a Wi-Fi or BLE capture (captures.wifi or captures.ble), and the rig has none`,
      `${B}suite-bad-set.yaml: some scenarios of the suite are not valid (above)`,
    ]);
  });

  it('a suite file with an unknown key is reported by the suite loader, with its position', async () => {
    const io = memoryIO();
    expect(await validateCommand({ files: [B + 'suite-typo.yaml'] }, io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/suite-typo\.yaml:4:5: .*sett/);
  });

  it('a scenario whose rig: names a missing file: the error is at its rig: line', async () => {
    const dir = join(tmp, 'norig');
    mkdirSync(dir, { recursive: true });
    const f = join(dir, 's.yaml');
    writeFileSync(f, 'scenario: s\ndescription: x\nrig:   ../rigs/bench.yaml\nphases: [{ name: x, steps: [{ dwell: 1s }] }]\n');
    const io = memoryIO();
    expect(await validateCommand({ files: [f] }, io)).toBe(2);
    expect(io.stderr).toEqual([`${f}:3:8: rig: no such rig file ${join(tmp, 'rigs/bench.yaml')}`]);
  });

  it('a scenario given as --rig is refused in one line', async () => {
    const io = memoryIO();
    expect(await validateCommand({ files: [G + 'scenarios/params.yaml'], rig: G + 'scenarios/system-off.yaml' }, io)).toBe(2);
    expect(io.stderr).toEqual([
      `${G}scenarios/system-off.yaml:2:1: this is a scenario file, not a rig file (a rig file starts with "rig:")`,
      `${G}scenarios/params.yaml: cannot be checked against its rig ${G}scenarios/system-off.yaml: the rig file is not valid`,
    ]);
  });
});
