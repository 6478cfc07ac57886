/**
 * Rig file → RigConfig. Pure: reads one file, opens nothing else.
 */
import { BlockList, isIP } from 'node:net';
import { CONFIG_CODES, ConfigError, type ConfigIssue } from './errors.js';
import { isObj, parseCidr, Reader, type Obj } from './reader.js';
import { kindOf } from './kind.js';
import { schemaIssues } from './schema.js';
import { loadConfigSource, type ConfigSource, type Seg } from './source.js';
import type {
  ButtonDriverName,
  CanaryProtocolName,
  CaptureFault,
  HiddenProtocol,
  PowerDriverName,
  RigBand,
  RigBle,
  RigButton,
  RigCanaries,
  RigCanaryInjector,
  RigConfig,
  RigDevice,
  RigLink,
  RigNetworkCapture,
  RigPowerChannel,
  RigSdr,
  RigWifiMonitor,
} from './types.js';
import { parseCurrent, parseDuration, parseFrequency, parseSize, parseVoltage } from './units.js';

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path));
}

export function loadRig(file: string): RigConfig {
  return rigFromSource(loadConfigSource(file));
}

/** A scenario given where a rig is expected (or the reverse) gets one clear error, not a page of unknown keys. */
export function refuseOtherKind(src: ConfigSource, want: 'rig' | 'scenario'): void {
  const kind = kindOf(src.data);
  if (kind === want || kind === 'unknown') return;
  const p = src.index.at([]);
  throw new ConfigError(CONFIG_CODES.invalid, [
    { file: src.file, line: p.line, col: p.col, path: '', message: `this is a ${kind} file, not a ${want} file (a ${want} file starts with "${want}:")` },
  ]);
}

export function rigFromSource(src: ConfigSource): RigConfig {
  refuseOtherKind(src, 'rig');
  const issues = schemaIssues('rig', src.data, src.index);
  const r = new Reader(src);
  const rig = convertRig(r, isObj(src.data) ? src.data : {}, src.absFile);
  const all = sortIssues([...issues, ...r.issues]);
  if (all.length > 0) throw new ConfigError(CONFIG_CODES.invalid, all);
  return rig;
}

function entries(v: unknown): [string, Obj][] {
  return isObj(v) ? Object.entries(v).map(([k, x]) => [k, isObj(x) ? x : {}]) : [];
}

/** `lab.sinkhole_log`: where `run` reads the gateway sinkhole's log (src/rig/sinkhole-fetch.ts). */
function convertSinkholeLog(r: Reader, lab: Obj, ctx: { virtual: boolean; sinkhole?: string }): RigConfig['lab']['sinkholeLog'] {
  if (lab.sinkhole_log === undefined) return undefined;
  const l = r.obj(lab.sinkhole_log);
  const at = ['lab', 'sinkhole_log'];
  const file = r.str(l.path);
  const ssh = r.str(l.ssh);
  if (file === undefined) return undefined;
  if (!file.startsWith('/') || /[\0\n\r]/.test(file)) r.fail([...at, 'path'], `${JSON.stringify(file)} is not an absolute path of one line (write /var/log/airlock/sinkhole.jsonl)`);
  if (ssh !== undefined && (ssh.startsWith('-') || /\s/.test(ssh))) r.fail([...at, 'ssh'], `${JSON.stringify(ssh)} is not an SSH destination (write user@host, with no spaces and no leading "-")`);
  if (ssh !== undefined && ctx.virtual) r.fail([...at, 'ssh'], "the virtual rig's sinkhole writes its log on this host: give path only");
  if (!ctx.sinkhole) r.fail(at, 'a sinkhole log needs the sinkhole: set lab.sinkhole to the gateway\'s address');
  return { path: file, ...(ssh !== undefined ? { ssh } : {}) };
}

function convertRig(r: Reader, d: Obj, absFile: string): RigConfig {
  const lab = r.obj(d.lab);
  const subnets = r.strings(lab.subnets);
  const blocks = new BlockList();
  subnets.forEach((s, i) => {
    const c = parseCidr(s);
    if (!c) r.fail(['lab', 'subnets', i], `${JSON.stringify(s)} is not a subnet (write 10.231.0.0/24 or fd0a:231::/64)`);
    else blocks.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  });
  const addressIn = (path: Seg[], v: unknown, family: 4 | 6): string | undefined => {
    if (typeof v !== 'string') return undefined;
    if (isIP(v) !== family) {
      r.fail(path, `${JSON.stringify(v)} is not an IPv${family} address`);
      return v;
    }
    if (subnets.length > 0 && !blocks.check(v, family === 4 ? 'ipv4' : 'ipv6')) {
      r.fail(path, `${v} is not inside the lab subnets (${subnets.join(', ')})`);
    }
    return v;
  };
  const sinkhole = addressIn(['lab', 'sinkhole'], lab.sinkhole, 4);
  const sinkhole6 = addressIn(['lab', 'sinkhole6'], lab.sinkhole6, 6);

  const power: Record<string, RigPowerChannel> = {};
  for (const [name, p] of entries(d.power)) {
    const path = ['power', name];
    if (/^\d+$/.test(name)) r.fail(path, `"${name}": a power channel name must not be a plain number (the order of power channels is the safing order, and numeric keys would be reordered)`, { atKey: true });
    const driver = (r.str(p.driver) ?? 'manual') as PowerDriverName;
    if (driver !== 'manual' && p.driver !== undefined && p.port === undefined) r.fail(path, `missing required key "port" (driver ${driver} needs one)`);
    power[name] = {
      name,
      driver,
      ...(typeof p.port === 'string' ? { port: p.port } : {}),
      channel: r.int(p.channel, 1),
      ...(p.volts !== undefined ? { volts: r.unit(p, 'volts', path, parseVoltage, { min: 'positive', what: 'the voltage' }) } : {}),
      ...(p.current_limit !== undefined
        ? { currentLimit: r.unit(p, 'current_limit', path, parseCurrent, { min: 'positive', what: 'the current limit' }) }
        : {}),
      ...(typeof p.baud === 'number' ? { baudRate: p.baud } : {}),
      timeoutMs: r.unit(p, 'timeout', path, parseDuration, { dflt: 1000, min: 'positive', what: 'the timeout' }),
    };
  }

  const buttons: Record<string, RigButton> = {};
  for (const [name, b] of entries(d.buttons)) {
    const path = ['buttons', name];
    const driver = (r.str(b.driver) ?? 'manual') as ButtonDriverName;
    if (driver !== 'manual' && b.driver !== undefined && b.port === undefined) r.fail(path, `missing required key "port" (driver ${driver} needs one)`);
    buttons[name] = {
      name,
      driver,
      ...(typeof b.port === 'string' ? { port: b.port } : {}),
      channel: r.int(b.channel, 1),
      ...(typeof b.baud === 'number' ? { baudRate: b.baud } : {}),
      timeoutMs: r.unit(b, 'timeout', path, parseDuration, { dflt: 1000, min: 'positive', what: 'the timeout' }),
    };
  }

  const links: Record<string, RigLink> = {};
  for (const [name, l] of entries(d.links)) {
    const path = ['links', name];
    links[name] = {
      name,
      endpoint: r.str(l.endpoint) ?? '',
      systemId: r.int(l.system_id, 1),
      gcsSystemId: r.int(l.gcs_system_id, 255),
      heartbeatTimeoutMs: r.unit(l, 'heartbeat_timeout', path, parseDuration, { dflt: 3000, min: 'positive', what: 'the heartbeat timeout' }),
      autopilot: l.autopilot === 'px4' ? 'px4' : 'ardupilot',
    };
    if (links[name]!.systemId === links[name]!.gcsSystemId && typeof l.system_id === 'number') {
      r.fail([...path, 'gcs_system_id'], `Airlock's system id must differ from the vehicle's (${links[name]!.systemId})`);
    }
  }

  const ref = (path: Seg[], v: unknown, table: Record<string, unknown>, what: string) => {
    if (typeof v === 'string' && !Object.hasOwn(table, v)) {
      const have = Object.keys(table);
      r.fail(path, `unknown ${what} "${v}" (the rig has: ${have.length ? have.join(', ') : 'none'})`);
    }
  };

  const devices: Record<string, RigDevice> = {};
  const seenAddr = new Map<string, string>();
  if (sinkhole) seenAddr.set(sinkhole, 'lab.sinkhole');
  if (sinkhole6) seenAddr.set(sinkhole6, 'lab.sinkhole6');
  for (const [name, dv] of entries(d.devices)) {
    const path = ['devices', name];
    const address = addressIn([...path, 'address'], dv.address, 4);
    const address6 = addressIn([...path, 'address6'], dv.address6, 6);
    for (const [k, a] of [['address', address], ['address6', address6]] as const) {
      if (a === undefined) continue;
      const other = seenAddr.get(a);
      if (other) r.fail([...path, k], `address ${a} is already used by ${other}`);
      else seenAddr.set(a, `devices.${name}.${k}`);
    }
    ref([...path, 'power'], dv.power, power, 'power channel');
    ref([...path, 'button'], dv.button, buttons, 'button');
    ref([...path, 'link'], dv.link, links, 'link');
    const fp = isObj(dv.firmware_params) ? dv.firmware_params : undefined;
    const actions = isObj(dv.actions) ? dv.actions : undefined;
    if (dv.vlan !== undefined && d.virtual !== true) {
      r.fail([...path, 'vlan'], '`vlan` is for tests and works on the virtual rig only (it tags the device\'s link); on a real bench the switch decides', { atKey: true });
    }
    devices[name] = {
      name,
      ...(address !== undefined ? { address } : {}),
      ...(address6 !== undefined ? { address6 } : {}),
      ...(typeof dv.vlan === 'number' && d.virtual === true ? { vlan: dv.vlan } : {}),
      ...(typeof dv.power === 'string' ? { power: dv.power } : {}),
      ...(typeof dv.button === 'string' ? { button: dv.button } : {}),
      ...(typeof dv.link === 'string' ? { link: dv.link } : {}),
      ...(typeof dv.firmware === 'string' ? { firmware: dv.firmware } : {}),
      ...(fp ? { firmwareParams: Object.fromEntries(Object.entries(fp).map(([k, v]) => [k, String(v)])) } : {}),
      ...(actions ? { actions: Object.fromEntries(Object.entries(actions).map(([k, v]) => [k, String(v)])) } : {}),
    };
  }

  const caps = r.obj(d.captures);
  const network: Record<string, RigNetworkCapture> = {};
  for (const [name, c] of entries(caps.network)) {
    const path = ['captures', 'network', name];
    // A capture filter can only hide, and canaries show only that their own packets pass it: a
    // filter such as `not port 443` lets every canary through and hides a device's HTTPS
    // (docs/technician/proof-of-sight.md).
    if (typeof c.filter === 'string' && d.virtual !== true) {
      r.fail([...path, 'filter'], 'a capture filter hides traffic no canary can vouch for (canaries show only that their own UDP, TCP, ICMP and DNS packets pass it): a capture that must show nothing left the lab takes every frame; remove it', { atKey: true });
    }
    network[name] = {
      name,
      interface: r.str(c.interface) ?? '',
      ...(typeof c.filter === 'string' ? { filter: c.filter } : {}),
      bufferSize: r.unit(c, 'buffer_size', path, parseSize, { dflt: 32 * 1024 * 1024, min: 'positive', what: 'the buffer size' }),
      snaplen: r.int(c.snaplen, 65535),
      ...captureFault(r, c.fault, path, d.virtual === true, devices[typeof c.interface === 'string' ? c.interface : '']),
    };
  }
  const rot = caps.rotate === undefined ? undefined : r.obj(caps.rotate);
  const rotate = rot
    ? {
        ...(rot.size !== undefined ? { bytes: r.unit(rot, 'size', ['captures', 'rotate'], parseSize, { dflt: 0, min: 'positive', what: 'the part size' }) } : {}),
        ...(rot.duration !== undefined ? { ms: r.unit(rot, 'duration', ['captures', 'rotate'], parseDuration, { dflt: 0, min: 'positive', what: 'the part duration' }) } : {}),
      }
    : undefined;
  const sdr: Record<string, RigSdr> = {};
  const bandNames = new Map<string, string>();
  for (const [name, c] of entries(caps.sdr)) {
    const path = ['captures', 'sdr', name];
    const bands: RigBand[] = [];
    (Array.isArray(c.bands) ? c.bands : []).forEach((b: unknown, i: number) => {
      if (!isObj(b)) return;
      const bp = [...path, 'bands', i];
      const lowHz = r.unit(b, 'low', bp, parseFrequency, { min: 'positive', what: 'the frequency' });
      const highHz = r.unit(b, 'high', bp, parseFrequency, { min: 'positive', what: 'the frequency' });
      if (lowHz >= highHz) r.fail([...bp, 'high'], `the band's high edge must be above its low edge`);
      const bname = r.str(b.name) ?? '';
      const prev = bandNames.get(bname);
      if (prev) r.fail([...bp, 'name'], `band name "${bname}" is already used by ${prev}`);
      else bandNames.set(bname, `captures.sdr.${name}`);
      bands.push({ name: bname, lowHz, highHz });
    });
    sdr[name] = {
      name,
      driver: (r.str(c.driver) ?? 'virtual') as RigSdr['driver'],
      bands,
      binWidthHz: r.unit(c, 'bin_width', path, parseFrequency, { min: 'positive', what: 'the bin width' }),
      ...(Array.isArray(c.args) ? { args: r.strings(c.args) } : {}),
      ...(typeof c.command === 'string' ? { command: c.command } : {}),
    };
  }
  const wifi: Record<string, RigWifiMonitor> = {};
  for (const [name, c] of entries(caps.wifi)) {
    wifi[name] = { name, interface: r.str(c.interface) ?? '', ...(typeof c.channel === 'number' ? { channel: c.channel } : {}) };
  }
  const ble: Record<string, RigBle> = {};
  for (const [name, c] of entries(caps.ble)) {
    if ((c.command === undefined) === (c.driver === undefined)) {
      r.fail(['captures', 'ble', name], 'a BLE capture needs either `command` (a sniffer bridge that writes a pcap to stdout) or `driver: virtual`, and not both', { atKey: true });
    }
    ble[name] = { name, driver: c.driver === 'virtual' ? 'virtual' : 'command', command: r.str(c.command) ?? '' };
  }

  const sinkholeLog = convertSinkholeLog(r, lab, { virtual: d.virtual === true, sinkhole });
  const canaryIntervalMs = r.unit(d, 'canary_interval', [], parseDuration, { dflt: 2000, min: 'nonneg' });
  const subnets6 = subnets.filter((x) => parseCidr(x)?.family === 6);
  const canaries = convertCanaries(r, d, { virtual: d.virtual === true, devices, network, sinkhole, sinkhole6, subnets6, sinkholeLog: sinkholeLog !== undefined, intervalMs: canaryIntervalMs, addressIn });
  return {
    file: absFile,
    name: r.str(d.rig) ?? '',
    virtual: d.virtual === true,
    lab: {
      subnets,
      ...(sinkhole !== undefined ? { sinkhole } : {}),
      ...(sinkhole6 !== undefined ? { sinkhole6 } : {}),
      names: r.strings(lab.names),
      ...(sinkholeLog ? { sinkholeLog } : {}),
    },
    devices,
    power,
    buttons,
    links,
    captures: { ...(rotate ? { rotate } : {}), network, sdr, wifi, ble },
    powerSampleHz: r.unit(d, 'power_sample_rate', [], parseFrequency, { dflt: 10, min: 'positive', what: 'the sample rate' }),
    canaryIntervalMs,
    ...(canaries ? { canaries } : {}),
    captureLossMax: captureLossMax(r, d.capture_loss_max),
  };
}

/**
 * `capture_loss_max`: a percentage from 0 % to 100 % (the schema checks its form). Above 100 % no
 * loss could reach it and the check would be off without a word, so it is refused.
 */
function captureLossMax(r: Reader, v: unknown): number {
  if (typeof v !== 'string') return DEFAULT_CAPTURE_LOSS_MAX;
  const pct = Number(v.slice(0, -1));
  if (!(pct >= 0 && pct <= 100)) {
    r.fail(['capture_loss_max'], `${JSON.stringify(v)} is outside 0%..100%: capture loss is a share of the TCP data a capture saw acknowledged, so a limit above 100% turns the check off`);
    return DEFAULT_CAPTURE_LOSS_MAX;
  }
  return pct / 100;
}

/**
 * `captures.network.<x>.fault`: for tests, on the virtual rig only. On a real rig it is refused:
 * it would make a capture blind on purpose.
 */
function captureFault(r: Reader, v: unknown, path: Seg[], virtual: boolean, device: RigDevice | undefined): { fault?: CaptureFault } {
  if (v === undefined) return {};
  if (!virtual) {
    r.fail([...path, 'fault'], '`fault` is for tests and works on the virtual rig only (it makes this capture blind on purpose); remove it from a real rig file', { atKey: true });
    return {};
  }
  if (v === 'wrong_interface' || v === 'interface_down') return { fault: v };
  if (isObj(v) && typeof v.filter_hides === 'string') return { fault: { filterHides: v.filter_hides as HiddenProtocol } };
  if (isObj(v) && typeof v.mirror_drops_vlan === 'number') {
    const vid = v.mirror_drops_vlan;
    if (device?.vlan !== vid) {
      r.fail([...path, 'fault', 'mirror_drops_vlan'], `this capture's port carries no VLAN ${vid}: name a device's port as the interface and give that device vlan: ${vid}`);
    }
    return { fault: { mirrorDropsVlan: vid } };
  }
  return {}; // the schema names what is wrong
}

/** The outside IPv6 address canaries go to by default (2001:db8::/32, RFC 3849: routed nowhere). */
export const DEFAULT_OUTSIDE_TARGET6 = '2001:db8::99';

/** Every canary round sends all of these (the same list as src/analysis/canary.ts CANARY_PROTOCOLS). */
export const ALL_CANARY_PROTOCOLS: readonly CanaryProtocolName[] = ['udp', 'tcp', 'icmp', 'dns'];

/** Default `capture_loss_max`: 0.1 %. */
export const DEFAULT_CAPTURE_LOSS_MAX = 0.001;

interface CanaryContext {
  virtual: boolean;
  devices: Record<string, RigDevice>;
  network: Record<string, RigNetworkCapture>;
  sinkhole?: string;
  sinkhole6?: string;
  /** The lab's IPv6 subnets. */
  subnets6: string[];
  /** The rig names `lab.sinkhole_log` (the gateway's log is fetched and checked). */
  sinkholeLog: boolean;
  intervalMs: number;
  addressIn: (path: Seg[], v: unknown, family: 4 | 6) => string | undefined;
}

/**
 * Where the lab carries IPv6 (an IPv6 subnet, a device with an IPv6 address), IPv6 canaries must
 * cross every network capture: otherwise a capture filter or a mirror that hides IPv6 shows
 * nothing, and a device's IPv6 traffic goes unseen under a PASS. IPv6 canaries need a lab IPv6
 * target and, on a real bench, an injection point with an IPv6 source crossing each capture (on
 * the virtual rig every device with an address6 sends them; docs/technician/proof-of-sight.md).
 */
function ipv6Canaries(r: Reader, c: Obj | undefined, inject: Record<string, RigCanaryInjector>, ctx: CanaryContext, labTarget6: string | undefined): void {
  const v6Devices = Object.values(ctx.devices).filter((x) => x.address6 !== undefined).map((x) => x.name);
  if (ctx.subnets6.length === 0 && v6Devices.length === 0) return;
  const why = ctx.subnets6.length > 0 ? `lab.subnets has ${ctx.subnets6.join(', ')}` : `${v6Devices.map((n) => `devices.${n}`).join(', ')} ${v6Devices.length > 1 ? 'have' : 'has'} an address6`;
  if (!labTarget6) {
    r.fail(c ? ['canaries'] : ['lab'], `the lab carries IPv6 (${why}) but no canary goes over IPv6: set lab.sinkhole6 (or canaries.lab_target6), or a capture that hides IPv6 proves nothing`);
    return;
  }
  if (ctx.virtual) return;
  const crossed6 = new Set(Object.values(inject).filter((i) => i.source6 !== undefined).flatMap((i) => i.crosses));
  for (const cap of Object.keys(ctx.network)) {
    if (!crossed6.has(cap)) {
      r.fail(['captures', 'network', cap], `no IPv6 canary crosses capture "${cap}" though the lab carries IPv6 (${why}): give an injection point that crosses it a source6, or a capture here that hides IPv6 proves nothing`, { atKey: true });
    }
  }
}

/**
 * The `canaries` block. The virtual rig without one injects from every device's namespace;
 * its canaries cross the device's own port and the sinkhole's (the bridge sees them all).
 * Every network capture must be crossed by some injection point, or silence there proves nothing.
 */
function convertCanaries(r: Reader, d: Obj, ctx: CanaryContext): RigCanaries | undefined {
  const c = isObj(d.canaries) ? d.canaries : undefined;
  const inject: Record<string, RigCanaryInjector> = {};
  const intervalMs = c && c.interval !== undefined ? r.unit(c, 'interval', ['canaries'], parseDuration, { min: 'nonneg' }) : ctx.intervalMs;
  for (const [name, i] of entries(c?.inject)) {
    const path: Seg[] = ['canaries', 'inject', name];
    const inj: RigCanaryInjector = { name, crosses: r.strings(i.crosses) };
    if (typeof i.host === 'string') inj.host = i.host;
    if (typeof i.interface === 'string') inj.interface = i.interface;
    if (typeof i.ssh === 'string') inj.ssh = i.ssh;
    if (typeof i.helper === 'string') inj.helper = i.helper;
    if (i.source !== undefined) inj.source = ctx.addressIn([...path, 'source'], i.source, 4);
    if (i.source6 !== undefined) inj.source6 = ctx.addressIn([...path, 'source6'], i.source6, 6);
    if (ctx.virtual) {
      if (!inj.host) r.fail(path, 'on the virtual rig an injection point names the lab host that sends (host: drone)');
      else if (!Object.hasOwn(ctx.devices, inj.host)) r.fail([...path, 'host'], `unknown device "${inj.host}" (the rig has: ${Object.keys(ctx.devices).join(', ')})`);
    } else {
      if (inj.host) r.fail([...path, 'host'], '`host` names a namespace of the virtual rig; on a real bench give interface and source, or ssh');
      if (!inj.source) r.fail(path, 'missing required key "source" (the lab address the canaries are sent from)');
      if (!inj.interface && !inj.ssh) r.fail(path, 'say where the canaries leave: interface (on this host) or ssh (a lab-side host running airlock canary-helper)');
    }
    inj.crosses.forEach((cap, k) => {
      if (!Object.hasOwn(ctx.network, cap)) r.fail([...path, 'crosses', k], `unknown network capture "${cap}" (the rig has: ${Object.keys(ctx.network).join(', ') || 'none'})`);
    });
    inject[name] = inj;
  }
  if (Object.keys(inject).length === 0 && ctx.virtual) {
    for (const host of Object.keys(ctx.devices)) {
      const crosses = Object.values(ctx.network)
        .filter((n) => n.interface === host || n.interface === 'sinkhole' || n.interface === 'br0')
        .map((n) => n.name);
      inject[host] = { name: host, host, crosses };
    }
  }
  const labTarget = c?.lab_target !== undefined ? ctx.addressIn(['canaries', 'lab_target'], c.lab_target, 4) : ctx.sinkhole;
  if (Object.keys(inject).length > 0 && !labTarget) r.fail(c ? ['canaries'] : [], 'canaries need a lab address to go to: set lab.sinkhole or canaries.lab_target');
  const outsideTarget = typeof c?.outside_target === 'string' ? c.outside_target : '203.0.113.99';
  if (typeof c?.outside_target === 'string' && isIP(outsideTarget) !== 4) r.fail(['canaries', 'outside_target'], `${JSON.stringify(outsideTarget)} is not an IPv4 address`);
  const labTarget6 = c?.lab_target6 !== undefined ? ctx.addressIn(['canaries', 'lab_target6'], c.lab_target6, 6) : ctx.sinkhole6;
  const outsideTarget6 = typeof c?.outside_target6 === 'string' ? c.outside_target6 : DEFAULT_OUTSIDE_TARGET6;
  if (typeof c?.outside_target6 === 'string' && isIP(outsideTarget6) !== 6) r.fail(['canaries', 'outside_target6'], `${JSON.stringify(outsideTarget6)} is not an IPv6 address`);
  if (intervalMs > 0 || c) {
    // Canaries never cross the air link, so only network captures need a route.
    const crossed = new Set(Object.values(inject).flatMap((i) => i.crosses));
    for (const cap of Object.keys(ctx.network)) {
      if (!crossed.has(cap)) {
        r.fail(['captures', 'network', cap], `no canary crosses capture "${cap}": name it in a canaries.inject.<point>.crosses list, or a silent capture here proves nothing`, { atKey: true });
      }
    }
  }
  if ((intervalMs > 0 || c) && Object.keys(inject).length > 0) ipv6Canaries(r, c, inject, ctx, labTarget6);
  if (intervalMs === 0 && !c) return undefined;
  const protocols = c && Array.isArray(c.protocols) ? (r.strings(c.protocols) as CanaryProtocolName[]) : [...ALL_CANARY_PROTOCOLS];
  // Every round holds all four protocols: a capture filter or mirror that hides one shows only as
  // that protocol's canaries missing, so a left-out one would hide unseen. The DNS canaries are
  // also what shows the gateway's log is of a sinkhole that received this run's traffic
  // (src/verdict/sinkhole-witness.ts): without them another gateway's log would pass.
  const missing = ALL_CANARY_PROTOCOLS.filter((p) => !protocols.includes(p));
  if (missing.length > 0) {
    const dnsWhy = ctx.sinkholeLog && missing.includes('dns') ? '; and lab.sinkhole_log is set: the DNS canaries are what shows the gateway sinkhole received this run\'s traffic' : '';
    r.fail(
      ['canaries', 'protocols'],
      `leaves out ${missing.join(', ')}: every round must send all four of ${ALL_CANARY_PROTOCOLS.join(', ')}, or a capture filter or mirror that hides a left-out protocol shows nothing${dnsWhy} (list all four, or leave protocols out)`,
    );
  }
  return {
    intervalMs,
    protocols,
    ...(labTarget ? { labTarget } : {}),
    outsideTarget,
    ...(labTarget6 ? { labTarget6 } : {}),
    outsideTarget6,
    inject,
  };
}
