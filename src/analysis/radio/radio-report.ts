/**
 * What a Wi-Fi monitor or BLE sniffer capture says, as evidence: broadcasts that carry
 * identity or position (Remote ID over Wi-Fi beacons, NAN and BLE; vendor drone-ID elements,
 * OUI 26:37:12) and probe requests (the networks a device knows) become findings of kind
 * `radio`; every other transmitter is an observation (address, frames, first and last packet,
 * signal), listed but not judged. Used by `airlock analyze` and by the run's radio assertions,
 * so both group and word a broadcast the same way.
 *
 * Grouping: one finding per capture file, transmitter and carrier (a drone that sends Remote
 * ID over Wi-Fi and BLE has two). BLE 4 sends one message per advertisement, so the fields of
 * every message from one advertiser are merged; BLE 5 and Wi-Fi send message packs.
 */
import type { CapturePacket } from '../capture-reader.js';
import type { RadioFinding } from '../finding.js';
import { BleAdvertAssembler, decodeBleRecord, isBleLinkType, type BleAdvert } from './ble.js';
import { decodeWifiRecord, LINKTYPE_IEEE802_11, LINKTYPE_RADIOTAP, type WifiFrame } from './dot11.js';
import { mergeOdid, odidFields, ODID_ID_TYPES, type OdidInfo } from './odid.js';

/** Link types whose frames are radio frames (decoded here, never judged by the egress scan). */
export function isRadioLinkType(linkType: number): boolean {
  return linkType === LINKTYPE_RADIOTAP || linkType === LINKTYPE_IEEE802_11 || isBleLinkType(linkType);
}

/** A transmitter heard in a capture that sent nothing judged (listed, not a finding). */
export interface RadioObservation {
  file: string;
  /** `wifi` or `ble`. */
  medium: 'wifi' | 'ble';
  /** Transmitter address (Wi-Fi TA, BLE advertiser); `unknown` when the frames carry none. */
  transmitter: string;
  /** Frame kinds seen (`beacon`, `data`, `ADV_IND`, ...). */
  kinds: string[];
  frames: number;
  firstPacket: number;
  lastPacket: number;
  time: string;
  until: string;
  /** Strongest signal (dBm) where the capture records one. */
  peakDbm?: number;
  /** SSID of its beacons, BLE local name. */
  name?: string;
}

interface Group {
  file: string;
  transmitter: string;
  first: number;
  last: number;
  firstMs: number;
  lastMs: number;
  count: number;
  peak?: number;
}

interface BroadcastGroup extends Group {
  what: string;
  carrier: string;
  odid?: OdidInfo;
  extra: Record<string, string | number>;
}

interface ProbeGroup extends Group {
  ssid: string;
}

interface OtherGroup extends Group {
  medium: 'wifi' | 'ble';
  kinds: Set<string>;
  name?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function touch(g: Group, packet: number, lastPacket: number, ms: number, signal: number | undefined, frames: number): void {
  g.count += frames;
  if (packet < g.first) {
    g.first = packet;
    g.firstMs = ms;
  }
  if (lastPacket > g.last) g.last = lastPacket;
  if (ms > g.lastMs) g.lastMs = ms;
  if (signal !== undefined && (g.peak === undefined || signal > g.peak)) g.peak = signal;
}

function newGroup<T extends Group>(file: string, transmitter: string, packet: number, ms: number, rest: Omit<T, keyof Group>): T {
  return { file, transmitter, first: packet, last: packet, firstMs: ms, lastMs: ms, count: 0, ...rest } as T;
}

const r7 = (v: number) => Math.round(v * 1e7) / 1e7;

function odidSummary(o: OdidInfo): string {
  const parts: string[] = [];
  if (o.serial !== undefined) parts.push(`${o.idType === 1 ? 'serial' : (ODID_ID_TYPES[o.idType ?? 0] ?? 'id')} ${o.serial}`);
  if (o.sessionId !== undefined && o.idType !== 4) parts.push(`session ${o.sessionId}`);
  if (o.operatorId !== undefined) parts.push(`operator ID ${o.operatorId}`);
  if (o.lat !== undefined) parts.push(`position ${r7(o.lat)}, ${r7(o.lon ?? 0)}${o.altGeoM !== undefined ? ` alt ${o.altGeoM} m` : ''}`);
  if (o.operatorLat !== undefined) parts.push(`operator at ${r7(o.operatorLat)}, ${r7(o.operatorLon ?? 0)}`);
  if (o.selfId) parts.push(`self-ID "${o.selfId}"`);
  if (o.auth?.length) parts.push(`authentication ${o.auth.map((a) => `${a.pages.length} page(s)`).join(', ')}`);
  return parts.join('; ') || (o.messages.length ? `messages ${o.messages.join(', ')}` : 'contents not decoded');
}

/** Why incomplete BLE extended advertisements leave a capture unjudged (one line per file). */
export function incompleteAdvertReason(u: { file: string; packet: number; count: number }): string {
  return `${u.file}: ${u.count} BLE extended advertisement(s) whose AUX packets were not captured (first at packet ${u.packet}); their data, which may carry Remote ID, was not seen`;
}

export interface RadioReport {
  /** Remote ID and vendor drone-ID broadcasts. */
  broadcasts: RadioFinding[];
  /** Probe requests, by transmitter and SSID. */
  probes: RadioFinding[];
  observations: RadioObservation[];
  /** Radio frames read (Wi-Fi frames, BLE packets). */
  frames: number;
  /** Radio frames too short or of a layout not decoded (for example an unknown nRF Sniffer version). */
  undecoded: number;
  /**
   * BLE extended advertisements whose data was not all seen (an AUX_ADV_IND or AUX_CHAIN_IND
   * the sniffer did not capture) and that showed no Remote ID in what was seen, per file: the
   * missing part may hold a Remote ID message pack, so they cannot be judged.
   */
  incompleteAdverts: { file: string; packet: number; count: number }[];
}

/**
 * Collects radio frames of any number of files, in order: `add` for every record of a radio
 * link type, then `report`. A file's BLE chains still open are closed when the next file starts,
 * at `endFile`, or at `report`.
 */
export class RadioCollector {
  private readonly broadcasts = new Map<string, BroadcastGroup>();
  private readonly probes = new Map<string, ProbeGroup>();
  private readonly others = new Map<string, OtherGroup>();
  private readonly assemblers = new Map<string, BleAdvertAssembler>();
  private readonly pending: BleAdvert[] = [];
  private readonly incomplete = new Map<string, { file: string; packet: number; count: number }>();
  private currentFile: string | undefined;
  frames = 0;
  undecoded = 0;

  constructor(private readonly window: { fromMs?: number; toMs?: number } = {}) {}

  private inWindow(ms: number): boolean {
    return ms >= (this.window.fromMs ?? -Infinity) && ms <= (this.window.toMs ?? Infinity);
  }

  /** One capture record of a radio link type (the packet view is read during the call only). */
  add(p: CapturePacket, file: string): void {
    if (file !== this.currentFile) {
      if (this.currentFile !== undefined) this.endFile(this.currentFile);
      this.currentFile = file;
    }
    this.frames++;
    if (isBleLinkType(p.linkType)) {
      const a = decodeBleRecord(p.frame(), p.linkType, p.index, p.timeMs);
      if (a === undefined) this.undecoded++;
      else if (a !== 'data') {
        let asm = this.assemblers.get(file);
        if (!asm) this.assemblers.set(file, (asm = new BleAdvertAssembler()));
        asm.push(a, this.pending);
        this.drain(file);
      }
      return;
    }
    const f = decodeWifiRecord(p.frame(), p.linkType, p.index, p.timeMs);
    if (!f) this.undecoded++;
    else this.wifi(f, file);
  }

  endFile(file: string): void {
    const asm = this.assemblers.get(file);
    if (asm) {
      asm.flush(this.pending);
      this.drain(file);
      this.assemblers.delete(file);
    }
  }

  private drain(file: string): void {
    for (const a of this.pending) this.ble(a, file);
    this.pending.length = 0;
  }

  private other(file: string, medium: 'wifi' | 'ble', tx: string, kind: string, packet: number, last: number, ms: number, signal: number | undefined, frames: number, name?: string): void {
    const key = `${file}|${medium}|${tx}`;
    let g = this.others.get(key);
    if (!g) this.others.set(key, (g = newGroup<OtherGroup>(file, tx, packet, ms, { medium, kinds: new Set<string>() })));
    touch(g, packet, last, ms, signal, frames);
    g.kinds.add(kind);
    if (name && g.name === undefined) g.name = name;
  }

  private broadcast(key: string, file: string, tx: string, what: string, carrier: string, packet: number, last: number, ms: number, signal: number | undefined, frames: number): BroadcastGroup {
    let g = this.broadcasts.get(key);
    if (!g) this.broadcasts.set(key, (g = newGroup<BroadcastGroup>(file, tx, packet, ms, { what, carrier, extra: {} })));
    touch(g, packet, last, ms, signal, frames);
    return g;
  }

  private wifi(f: WifiFrame, file: string): void {
    if (!this.inWindow(f.timeMs)) return;
    const tx = f.ta ?? f.bssid ?? 'unknown';
    let judged = false;
    if (f.remoteId) {
      const carrier = `wifi-${f.remoteId.carrier}`;
      const g = this.broadcast(`rid|${file}|${tx}|${carrier}`, file, tx, `Remote ID over Wi-Fi ${f.remoteId.carrier === 'nan' ? 'NAN' : f.remoteId.carrier}`, carrier, f.packet, f.packet, f.timeMs, f.signalDbm, 1);
      if (!g.odid) g.odid = { messages: [] };
      mergeOdid(g.odid, f.remoteId);
      if (f.channelMhz !== undefined) g.extra.channelMhz = f.channelMhz;
      if (f.ssid !== undefined) g.extra.ssid = f.ssid;
      judged = true;
    }
    if (f.djiDroneId) {
      const g = this.broadcast(`dji|${file}|${tx}`, file, tx, 'Vendor drone-ID element (OUI 26:37:12)', 'wifi-vendor-element', f.packet, f.packet, f.timeMs, f.signalDbm, 1);
      const { raw, ...rest } = f.djiDroneId;
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) g.extra[k] = typeof v === 'number' ? r7(v) : v;
      g.extra.raw = raw;
      judged = true;
    }
    if (f.name === 'probe-request') {
      const ssid = f.ssid ?? '';
      const key = `${file}|${tx}|${ssid}`;
      let g = this.probes.get(key);
      if (!g) this.probes.set(key, (g = newGroup<ProbeGroup>(file, tx, f.packet, f.timeMs, { ssid })));
      touch(g, f.packet, f.packet, f.timeMs, f.signalDbm, 1);
      judged = true;
    }
    if (!judged) this.other(file, 'wifi', tx, f.name, f.packet, f.packet, f.timeMs, f.signalDbm, 1, f.name === 'beacon' ? f.ssid : undefined);
  }

  private ble(a: BleAdvert, file: string): void {
    if (!this.inWindow(a.timeMs)) return;
    const tx = a.advertiser ?? 'unknown';
    const packets = a.packets ?? [a.packet];
    const first = Math.min(...packets);
    const last = Math.max(...packets);
    if (a.remoteId) {
      const extended = a.packets !== undefined || a.pduType.startsWith('AUX') || a.pduType === 'ADV_EXT_IND';
      const carrier = extended ? 'ble5-extended' : 'ble4-legacy';
      const phy = a.phy === 'coded' ? 'LE Coded, long range' : a.phy === '2M' ? 'LE 2M' : 'LE 1M';
      const what = extended ? `Remote ID over BLE 5 (extended advertising, ${phy})` : `Remote ID over BLE 4 (legacy advertising, ${phy})`;
      const g = this.broadcast(`rid|${file}|${tx}|${carrier}`, file, tx, what, carrier, first, last, a.timeMs, a.rssiDbm, packets.length);
      if (!g.odid) g.odid = { messages: [] };
      mergeOdid(g.odid, a.remoteId);
      if (a.phy) g.extra.phy = a.phy;
      g.extra.pdu = a.pduType;
      if (a.packets && g.extra.chainPackets === undefined) g.extra.chainPackets = a.packets.join(',');
      if (a.incomplete) g.extra.incompleteChain = 1;
      return;
    }
    if (a.incomplete) {
      const u = this.incomplete.get(file);
      if (!u) this.incomplete.set(file, { file, packet: first, count: 1 });
      else {
        u.count++;
        u.packet = Math.min(u.packet, first);
      }
    }
    this.other(file, 'ble', tx, a.pduType, first, last, a.timeMs, a.rssiDbm, packets.length, a.name);
  }

  report(): RadioReport {
    for (const file of [...this.assemblers.keys()]) this.endFile(file);
    const broadcasts: RadioFinding[] = [];
    for (const g of this.broadcasts.values()) {
      const fields: Record<string, string | number> = { ...(g.odid ? odidFields(g.odid) : {}), ...g.extra, carrier: g.carrier, count: g.count };
      const about = g.odid
        ? odidSummary(g.odid)
        : [g.extra.serial !== undefined ? `serial ${g.extra.serial}` : '', g.extra.lat !== undefined ? `position ${g.extra.lat}, ${g.extra.lon}` : '', g.extra.homeLat !== undefined ? `home ${g.extra.homeLat}, ${g.extra.homeLon}` : '']
            .filter(Boolean)
            .join('; ') || 'fields not decoded';
      broadcasts.push({
        kind: 'radio',
        file: g.file,
        packet: g.first,
        lastPacket: g.last,
        count: g.count,
        time: iso(g.firstMs),
        until: iso(g.lastMs),
        transmitter: g.transmitter,
        carrier: g.carrier,
        ...(g.peak !== undefined ? { peakDbm: g.peak } : {}),
        fields,
        summary: `${g.what} from ${g.transmitter}: ${about} (${g.count} frame(s), packets ${g.first}..${g.last})`,
      });
    }
    const probes: RadioFinding[] = [...this.probes.values()].map((g) => ({
      kind: 'radio',
      file: g.file,
      packet: g.first,
      lastPacket: g.last,
      count: g.count,
      time: iso(g.firstMs),
      until: iso(g.lastMs),
      transmitter: g.transmitter,
      carrier: 'wifi-probe-request',
      ...(g.peak !== undefined ? { peakDbm: g.peak } : {}),
      fields: { ssid: g.ssid, count: g.count },
      summary: `probe request from ${g.transmitter} for ${g.ssid ? `network "${g.ssid}"` : 'any network (wildcard)'} (${g.count} frame(s) from packet ${g.first})`,
    }));
    const observations: RadioObservation[] = [...this.others.values()].map((g) => ({
      file: g.file,
      medium: g.medium,
      transmitter: g.transmitter,
      kinds: [...g.kinds],
      frames: g.count,
      firstPacket: g.first,
      lastPacket: g.last,
      time: iso(g.firstMs),
      until: iso(g.lastMs),
      ...(g.peak !== undefined ? { peakDbm: g.peak } : {}),
      ...(g.name !== undefined ? { name: g.name } : {}),
    }));
    const byPacket = (x: { file: string; packet?: number; firstPacket?: number }, y: { file: string; packet?: number; firstPacket?: number }) =>
      x.file === y.file ? (x.packet ?? x.firstPacket ?? 0) - (y.packet ?? y.firstPacket ?? 0) : 0;
    broadcasts.sort(byPacket);
    probes.sort(byPacket);
    observations.sort(byPacket);
    return { broadcasts, probes, observations, frames: this.frames, undecoded: this.undecoded, incompleteAdverts: [...this.incomplete.values()] };
  }
}
