/**
 * A FlightLink over one MAVLink transport: heartbeat monitoring, COMMAND_LONG with ACKs,
 * timeouts and retries, conditions from telemetry, statistics, the tlog of every packet in
 * both directions, and a quiet switch under which Airlock sends nothing at all.
 */
import type pino from 'pino';
import type { RigLink } from '../../config/types.js';
import fs from 'node:fs';
import type { AutopilotIdentity, CommandResult, FlightCondition, FlightLink, LinkEvent, LinkStats } from './flight-link.js';
import { FlightError, FlightInputError, FlightOpenError, FlightTransportLost } from './errors.js';
import { reportFault } from '../health/index.js';
import { FrameScanner, packetMsgId, packetSeq, packetSysId, MAGIC_V1 } from '../../analysis/mavlink/framing.js';
import type { DamageInfo } from '../../analysis/mavlink/framing.js';
import { DATA_STREAM_OF, STREAM_NEEDS, StreamBook } from './streams.js';
import { messageName } from '../../analysis/mavlink/crc.js';
import {
  PacketEncoder,
  decodePacket,
  message,
  MSG,
  MAV_CMD,
  MAV_RESULT_NAMES,
  MAV_MODE_FLAG_SAFETY_ARMED,
  MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
  MAV_LANDED_STATE,
  MAGIC_FORCE_ARM,
} from './codec.js';
import { modeName, modeRequest } from './modes.js';
import { TlogWriter, nowUs } from './tlog-writer.js';
import { createTransport, parseEndpoint } from './transport.js';
import type { Transport } from './transport.js';
import { common } from 'node-mavlink';

const MAV_TYPE_GCS = 6;
const MAV_AUTOPILOT_INVALID = 8;
const MAV_STATE_ACTIVE = 4;
/** MAV_COMP_ID_MISSIONPLANNER: the component id ground stations use. */
const GCS_COMPID = 190;
const AUTOPILOT_COMPID = 1;
/** Pause between attempts when the autopilot refuses for now (pre-arm checks). */
const REFUSAL_RETRY_MS = 1000;
/** A heartbeat after this long a silence: the autopilot rebooted (or was off); ask again. */
const REBOOT_GAP_MS = 2000;
/** Time given to the requested messages to arrive before they are marked missing. */
const ARRIVAL_CHECK_MS = 3000;
/** How long each stream request waits for its COMMAND_ACK (twice). */
const REQUEST_ACK_MS = 1000;
const MAV_AUTOPILOT_NAMES: Record<number, string> = { 0: 'GENERIC', 3: 'ARDUPILOTMEGA', 12: 'PX4' };
const MAV_TYPE_NAMES: Record<number, string> = { 1: 'FIXED_WING', 2: 'QUADROTOR', 3: 'COAXIAL', 4: 'HELICOPTER', 10: 'GROUND_ROVER', 13: 'HEXAROTOR', 14: 'OCTOROTOR', 15: 'TRICOPTER', 19: 'VTOL_TAILSITTER_DUOROTOR', 20: 'VTOL_TAILSITTER_QUADROTOR', 21: 'VTOL_TILTROTOR' };
const FIRMWARE_TYPES: Record<number, string> = { 0: 'dev', 64: 'alpha', 128: 'beta', 192: 'rc', 255: 'official' };

interface Telemetry {
  lastHeartbeatAt: number; // Date.now() of the last HEARTBEAT from the vehicle, 0 = never
  lastPacketAt: number;
  armed?: boolean;
  customMode?: number;
  landedState?: number;
  relativeAltM?: number;
  altAmslM?: number;
  lastStatustext?: { text: string; at: number; n: number };
  /** Last GLOBAL_POSITION_INT (UNIX ms), for the landed fallback. */
  positionAt?: number;
}

interface CommandSpec {
  command: number;
  params: number[];
  /** Refusals worth retrying until the timeout (ArduPilot's pre-arm checks). */
  retryRefusals: boolean;
  /** Sent as COMMAND_INT (the autopilot expects it there): frame, and x/y as degrees * 1e7. */
  int?: { frame: number; x: number; y: number };
}

export class MavlinkLink implements FlightLink {
  readonly name: string;
  private transport?: Transport;
  private tlog?: TlogWriter;
  private readonly scanner: FrameScanner;
  private readonly encoder: PacketEncoder;
  private quiet = false;
  private opened = false;
  private gcsHeartbeat?: NodeJS.Timeout;
  private monitor?: NodeJS.Timeout;
  private linkUp = false;
  private lastSeq = -1;
  private readonly tel: Telemetry = { lastHeartbeatAt: 0, lastPacketAt: 0 };
  private readonly rx: Record<string, number> = {};
  private readonly tx: Record<string, number> = {};
  private heartbeatLosses = 0;
  private seqGaps = 0;
  private readonly events: LinkEvent[] = [];
  private readonly packetListeners = new Set<(msgName: string, sysid: number) => void>();
  private readonly eventListeners = new Set<(e: LinkEvent) => void>();
  /** Internal: woken on every decoded packet from the vehicle (waits and commands). */
  private readonly waiters = new Set<() => void>();
  private ackListeners = new Set<(command: number, result: number) => void>();
  /** Pending ACK waits, ended at once when the link closes (safing must not wait for them). */
  private readonly ackWaits = new Set<() => void>();
  private readonly noteListeners = new Set<(event: string, fields: Record<string, unknown>) => void>();
  private readonly book = new StreamBook();
  /** Recent STATUSTEXTs: the autopilot's stated reasons for a refusal. */
  private readonly texts: { text: string; at: number }[] = [];
  private streamRound = 0;
  /** Requests owed (the first heartbeat or a reboot came during a quiet phase). */
  private streamsOwed?: string;
  private arrivalTimer?: NodeJS.Timeout;
  private identity?: AutopilotIdentity;
  private lossy?: string;
  private rxErrorsFd?: number;

  constructor(
    private readonly cfg: RigLink,
    private readonly ctx: { log: pino.Logger; resolvePort(port: string): string; tlogPath: string },
  ) {
    this.name = cfg.name;
    this.scanner = new FrameScanner(
      (p) => this.receive(p),
      (p) => this.record(p),
      (bytes, info, atMs) => this.damage(bytes, info, atMs),
    );
    this.encoder = new PacketEncoder(cfg.gcsSystemId, GCS_COMPID);
  }

  async open(): Promise<void> {
    if (this.opened) return;
    const ep = parseEndpoint(this.cfg.endpoint, (p) => this.ctx.resolvePort(p));
    const transport = createTransport(ep, (chunk) => this.scanner.push(chunk));
    transport.onFault = (reason) => this.transportFault(reason);
    try {
      await transport.open();
    } catch (err) {
      throw new FlightOpenError(this.name, this.cfg.endpoint, err);
    }
    this.transport = transport;
    this.tlog = new TlogWriter(this.ctx.tlogPath);
    this.opened = true;
    this.ctx.log.info({ endpoint: this.cfg.endpoint, tlog: this.ctx.tlogPath }, 'mavlink link open');
    this.gcsHeartbeat = setInterval(() => this.sendGcsHeartbeat(), 1000);
    this.monitor = setInterval(() => this.checkHeartbeat(), 100);
    this.sendGcsHeartbeat();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    clearInterval(this.gcsHeartbeat);
    clearInterval(this.monitor);
    clearTimeout(this.arrivalTimer);
    this.scanner.flushIdle(0);
    for (const w of this.waiters) w();
    for (const a of this.ackWaits) a();
    try {
      await this.transport?.close();
    } finally {
      this.tlog?.close();
      if (this.rxErrorsFd !== undefined) {
        fs.fsyncSync(this.rxErrorsFd);
        fs.closeSync(this.rxErrorsFd);
        this.rxErrorsFd = undefined;
      }
      this.ctx.log.info({ stats: this.statsSummary() }, 'mavlink link closed');
    }
  }

  setQuiet(quiet: boolean): void {
    this.quiet = quiet;
    this.ctx.log.info({ quiet }, 'mavlink quiet');
    if (!quiet && this.streamsOwed !== undefined) {
      const why = this.streamsOwed;
      this.streamsOwed = undefined;
      void this.requestStreams(why);
    }
  }

  stats(): LinkStats {
    return {
      rx: { ...this.rx },
      tx: { ...this.tx },
      crcErrors: this.scanner.counters.crcErrors,
      unknownIds: this.scanner.counters.unknownIds,
      badBytes: this.scanner.counters.badBytes,
      heartbeatLosses: this.heartbeatLosses,
      seqGaps: this.seqGaps,
      events: this.events.map((e) => ({ ...e })),
      streams: this.book.report(),
      ...(this.identity ? { identity: { ...this.identity } } : {}),
      ...(this.lossy ? { lossy: this.lossy } : {}),
    };
  }

  /** The vehicle as last heard (the dashboard's MAVLink panel): mode, armed, altitude above home. */
  telemetry(): { mode?: string; armed?: boolean; altitudeM?: number } {
    const t = this.tel;
    return {
      ...(t.customMode !== undefined ? { mode: modeName(this.cfg.autopilot, t.customMode) } : {}),
      ...(t.armed !== undefined ? { armed: t.armed } : {}),
      ...(t.relativeAltM !== undefined ? { altitudeM: t.relativeAltM } : {}),
    };
  }

  onNote(listener: (event: string, fields: Record<string, unknown>) => void): () => void {
    this.noteListeners.add(listener);
    return () => this.noteListeners.delete(listener);
  }

  private note(event: string, fields: Record<string, unknown>): void {
    this.ctx.log.info(fields, event);
    for (const l of this.noteListeners) l(event, fields);
  }

  /**
   * The pipe failed under us: what the vehicle sent from now on is not in the record, so the
   * record is lossy and every MAVLink assertion over it is INCONCLUSIVE. A vehicle that simply
   * stops sending is not this (that is what a quiet phase expects).
   */
  private transportFault(reason: string): void {
    if (this.lossy || !this.opened) return;
    this.lossy = `${reason} at ${new Date().toISOString()}`;
    this.ctx.log.error({ reason }, 'mavlink transport fault');
    this.note('mavlink_transport_fault', { reason });
    // Not a vehicle going quiet (quiet phases expect that): the rig lost its way to the vehicle.
    reportFault(new FlightTransportLost(this.name, this.cfg.endpoint, reason));
  }

  /**
   * Bytes that were no valid packet (a CRC-damaged frame, noise): still transmissions. They go
   * to mavlink-<link>.rxerrors.jsonl beside the tlog (the tlog holds whole packets only), one
   * line per damaged run, so `no_mavlink` counts them.
   */
  private damage(bytes: Buffer, info: DamageInfo, atMs: number): void {
    if (this.rxErrorsFd === undefined) {
      this.rxErrorsFd = fs.openSync(this.ctx.tlogPath.replace(/\.tlog$/, '') + '.rxerrors.jsonl', 'a');
    }
    const timeUs = atMs * 1000;
    const line = {
      time: new Date(timeUs / 1000).toISOString(),
      timeUs,
      kind: info.badCrc ? 'bad_crc' : 'garbage',
      bytes: bytes.length,
      ...(info.badCrc ? { msgid: info.msgid, sysid: info.sysid } : {}),
      hex: bytes.subarray(0, 300).toString('hex'),
    };
    fs.writeSync(this.rxErrorsFd, JSON.stringify(line) + '\n');
  }

  onPacket(listener: (msgName: string, sysid: number) => void): () => void {
    this.packetListeners.add(listener);
    return () => this.packetListeners.delete(listener);
  }

  onLinkEvent(listener: (event: LinkEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  // ------------------------------------------------------------ receive

  private statsSummary() {
    const s = this.stats();
    return { rx: s.rx, tx: s.tx, crcErrors: s.crcErrors, badBytes: s.badBytes, seqGaps: s.seqGaps };
  }

  private record(packet: Buffer): void {
    this.tlog?.write(packet);
  }

  private receive(packet: Buffer): void {
    this.record(packet);
    const msgid = packetMsgId(packet, 0);
    const sysid = packetSysId(packet, 0);
    const name = messageName(msgid);
    this.rx[name] = (this.rx[name] ?? 0) + 1;
    for (const l of this.packetListeners) l(name, sysid);
    if (sysid !== this.cfg.systemId) return;
    const now = Date.now();
    this.tel.lastPacketAt = now;
    this.book.seen(msgid, now);
    const seq = packetSeq(packet, 0);
    if (this.lastSeq >= 0) this.seqGaps += (seq - this.lastSeq - 1) & 0xff;
    this.lastSeq = seq;
    switch (msgid) {
      case MSG.HEARTBEAT: {
        const hb = decodePacket(packet) as unknown as { baseMode: number; customMode: number; autopilot: number };
        if (hb.autopilot === MAV_AUTOPILOT_INVALID) break; // a GCS or companion, not the autopilot
        // Speak the version the vehicle speaks.
        this.encoder.version = packet[0] === MAGIC_V1 ? 1 : 2;
        const gap = this.tel.lastHeartbeatAt ? now - this.tel.lastHeartbeatAt : Infinity;
        this.tel.lastHeartbeatAt = now;
        const hbt = hb as unknown as { type: number; autopilot: number };
        this.identity = {
          ...(this.identity ?? { source: 'HEARTBEAT' }),
          autopilot: MAV_AUTOPILOT_NAMES[hbt.autopilot] ?? `MAV_AUTOPILOT_${hbt.autopilot}`,
          vehicleType: MAV_TYPE_NAMES[hbt.type] ?? `MAV_TYPE_${hbt.type}`,
        };
        // The first heartbeat, or the first after a silence (a reboot, a power cycle): a real
        // autopilot has forgotten what was asked of it, so ask again.
        if (gap === Infinity) void this.requestStreams('first heartbeat');
        else if (gap > REBOOT_GAP_MS) void this.requestStreams(`heartbeat after ${(gap / 1000).toFixed(1)} s of silence (reboot?)`);
        this.tel.armed = (hb.baseMode & MAV_MODE_FLAG_SAFETY_ARMED) !== 0;
        this.tel.customMode = hb.customMode;
        if (!this.linkUp) this.linkEvent('up', now);
        break;
      }
      case MSG.EXTENDED_SYS_STATE:
        this.tel.landedState = (decodePacket(packet) as unknown as { landedState: number }).landedState;
        break;
      case MSG.GLOBAL_POSITION_INT: {
        const g = decodePacket(packet) as unknown as { relativeAlt: number; alt: number };
        this.tel.relativeAltM = g.relativeAlt / 1000;
        this.tel.altAmslM = g.alt / 1000;
        this.tel.positionAt = now;
        break;
      }
      case MSG.AUTOPILOT_VERSION:
        this.autopilotVersion(packet);
        break;
      case MSG.STATUSTEXT: {
        const t = decodePacket(packet) as unknown as { text: string; severity: number };
        this.tel.lastStatustext = { text: t.text, at: now, n: (this.tel.lastStatustext?.n ?? 0) + 1 };
        this.texts.push({ text: t.text, at: now });
        if (this.texts.length > 50) this.texts.shift();
        this.ctx.log.info({ statustext: t.text, severity: t.severity }, 'autopilot says');
        break;
      }
      case MSG.COMMAND_ACK: {
        const a = decodePacket(packet) as unknown as { command: number; result: number; targetSystem: number };
        if (a.targetSystem === 0 || a.targetSystem === this.cfg.gcsSystemId) {
          for (const l of this.ackListeners) l(a.command, a.result);
        }
        break;
      }
    }
    for (const w of this.waiters) w();
  }

  private linkEvent(type: 'up' | 'lost', time: number): void {
    this.linkUp = type === 'up';
    if (type === 'lost') this.heartbeatLosses++;
    const e = { type, time };
    this.events.push(e);
    this.ctx.log.info({ event: type, time: new Date(time).toISOString() }, `mavlink link ${type}`);
    for (const l of this.eventListeners) l(e);
  }

  private checkHeartbeat(): void {
    this.scanner.flushIdle(500);
    if (this.linkUp && Date.now() - this.tel.lastHeartbeatAt > this.cfg.heartbeatTimeoutMs) {
      this.linkEvent('lost', Date.now());
    }
  }

  // ------------------------------------------------------------ send

  private send(msgid: number, fields: Record<string, unknown>): boolean {
    if (this.quiet || !this.opened || !this.transport) return false;
    const packet = this.encoder.encode(message(msgid, fields));
    this.transport.write(packet);
    this.tlog?.write(packet);
    const name = messageName(msgid);
    this.tx[name] = (this.tx[name] ?? 0) + 1;
    return true;
  }

  private sendGcsHeartbeat(): void {
    this.send(MSG.HEARTBEAT, {
      type: MAV_TYPE_GCS,
      autopilot: MAV_AUTOPILOT_INVALID,
      baseMode: 0,
      customMode: 0,
      systemStatus: MAV_STATE_ACTIVE,
      mavlinkVersion: 3,
    });
  }

  // ------------------------------------------------------------ streams and identity

  /** COMMAND_LONG sent up to twice; the ACK's MAV_RESULT, or undefined when unanswered or quiet. */
  private async request(command: number, params: number[]): Promise<number | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const sent = this.send(MSG.COMMAND_LONG, {
        targetSystem: this.cfg.systemId,
        targetComponent: AUTOPILOT_COMPID,
        command,
        confirmation: attempt,
        _param1: params[0] ?? 0, _param2: params[1] ?? 0, _param3: params[2] ?? 0, _param4: params[3] ?? 0,
        _param5: params[4] ?? 0, _param6: params[5] ?? 0, _param7: params[6] ?? 0,
      });
      if (!sent) return undefined;
      const ack = await this.waitAck(command, REQUEST_ACK_MS);
      if (ack !== undefined) return ack;
    }
    return undefined;
  }

  /**
   * Ask for every message the link needs, as a ground station does (streams.ts), then the
   * autopilot's identity, then check what came. A newer round (another reboot) supersedes.
   */
  private async requestStreams(why: string): Promise<void> {
    if (!this.opened) return;
    if (this.quiet) {
      this.streamsOwed = why;
      this.note('mavlink_streams_deferred', { why, reason: 'the phase asserts no_mavlink: nothing may be sent' });
      return;
    }
    const round = ++this.streamRound;
    clearTimeout(this.arrivalTimer);
    const stale = () => round !== this.streamRound || !this.opened;
    for (const need of STREAM_NEEDS) {
      const rec = this.book.request(need, Date.now());
      const ack = await this.request(MAV_CMD.SET_MESSAGE_INTERVAL, [need.msgid, Math.round(1e6 / need.hz)]);
      if (stale()) return;
      if (this.quiet) {
        this.streamsOwed = why;
        return;
      }
      rec.interval = ack === undefined ? 'no answer' : (MAV_RESULT_NAMES[ack] ?? `RESULT_${ack}`);
      if (ack !== 0) {
        const group = DATA_STREAM_OF[need.msgid];
        if (group) {
          this.send(MSG.REQUEST_DATA_STREAM, {
            targetSystem: this.cfg.systemId,
            targetComponent: AUTOPILOT_COMPID,
            reqStreamId: group.id,
            reqMessageRate: need.hz,
            startStop: 1,
          });
          rec.dataStream = `REQUEST_DATA_STREAM ${group.name} at ${need.hz} Hz sent`;
        } else {
          rec.dataStream = 'no REQUEST_DATA_STREAM group carries it';
        }
      }
      this.note('mavlink_stream_request', { why, message: need.message, hz: need.hz, for: need.why, setMessageInterval: rec.interval, ...(rec.dataStream ? { fallback: rec.dataStream } : {}) });
    }
    // The autopilot's identity: MAV_CMD_REQUEST_MESSAGE (MAVLink 2 era), else the older
    // MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES.
    const versionBefore = this.book.lastSeen(MSG.AUTOPILOT_VERSION);
    let ack = await this.request(MAV_CMD.REQUEST_MESSAGE, [MSG.AUTOPILOT_VERSION]);
    let how = 'MAV_CMD_REQUEST_MESSAGE';
    if (stale()) return;
    if (ack !== 0 && this.book.lastSeen(MSG.AUTOPILOT_VERSION) === versionBefore) {
      ack = await this.request(MAV_CMD.REQUEST_AUTOPILOT_CAPABILITIES, [1]);
      how = 'MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES';
      if (stale()) return;
    }
    this.note('mavlink_identity_request', { command: how, result: ack === undefined ? 'no answer' : (MAV_RESULT_NAMES[ack] ?? `RESULT_${ack}`) });
    this.arrivalTimer = setTimeout(() => {
      if (stale()) return;
      const report = this.book.check();
      this.note('mavlink_streams', {
        why,
        streams: report.map((r) => ({
          message: r.message,
          state: r.state,
          received: r.received,
          requestedHz: r.hz,
          ...(r.firstAt !== undefined && r.lastAt !== undefined && r.received > 1 && r.lastAt > r.firstAt
            ? { measuredHz: Math.round(((r.received - 1) * 1000 * 10) / (r.lastAt - r.firstAt)) / 10 }
            : {}),
          how: this.book.describe(r.msgid, r.message),
        })),
        identity: this.identity,
      });
      if (!this.identity?.flightSwVersion) {
        this.identity = { ...(this.identity ?? {}), source: `no AUTOPILOT_VERSION: ${how} ${ack === undefined ? 'unanswered' : (MAV_RESULT_NAMES[ack] ?? ack)}` };
      }
    }, ARRIVAL_CHECK_MS);
    this.arrivalTimer.unref();
  }

  private autopilotVersion(packet: Buffer): void {
    const v = decodePacket(packet) as unknown as {
      flightSwVersion: number; boardVersion: number; vendorId: number; productId: number; uid: bigint; flightCustomVersion: number[];
    };
    const sw = v.flightSwVersion >>> 0;
    const custom = Buffer.from(v.flightCustomVersion ?? []);
    // ArduPilot puts 8 ASCII characters of its git hash here; PX4 the hash's first 8 bytes in binary.
    const printable = custom.length > 0 && custom.every((c) => c === 0 || (c >= 0x20 && c < 0x7f));
    const gitHash = printable ? custom.toString('latin1').replace(/\0+$/, '') : custom.toString('hex');
    const fresh = this.identity?.flightSwVersion === undefined;
    this.identity = {
      ...(this.identity ?? {}),
      flightSwVersion: `${sw >>> 24}.${(sw >>> 16) & 0xff}.${(sw >>> 8) & 0xff}`,
      releaseType: FIRMWARE_TYPES[sw & 0xff] ?? `type ${sw & 0xff}`,
      gitHash,
      boardVersion: v.boardVersion >>> 0,
      vendorId: v.vendorId,
      productId: v.productId,
      uid: BigInt(v.uid ?? 0).toString(16),
      source: 'AUTOPILOT_VERSION',
    };
    if (fresh) this.note('mavlink_identity', { ...this.identity });
  }

  // ------------------------------------------------------------ commands

  private spec(name: string, params: Record<string, number | string>): CommandSpec {
    const num = (key: string, dflt: number): number => {
      const v = params[key];
      if (v === undefined) return dflt;
      const n = typeof v === 'number' ? v : Number(v);
      if (!Number.isFinite(n)) {
        throw new FlightInputError('AIRLOCK_FLIGHT_COMMAND', `${this.name}: ${name}: parameter ${key} is not a number`);
      }
      return n;
    };
    const force = params.force === 'true' || params.force === 1;
    const px4 = this.cfg.autopilot === 'px4';
    switch (name) {
      case 'arm':
        return { command: MAV_CMD.COMPONENT_ARM_DISARM, params: [1, force ? MAGIC_FORCE_ARM : 0, 0, 0, 0, 0, 0], retryRefusals: true };
      case 'disarm':
        return { command: MAV_CMD.COMPONENT_ARM_DISARM, params: [0, force ? MAGIC_FORCE_ARM : 0, 0, 0, 0, 0, 0], retryRefusals: false };
      case 'takeoff': {
        const alt = num('altitude', NaN);
        if (!(alt > 0)) {
          throw new FlightInputError('AIRLOCK_FLIGHT_COMMAND', `${this.name}: takeoff needs altitude (metres above home)`);
        }
        // ArduPilot: param7 is the altitude above home. PX4: param7 is AMSL, lat/lon NaN = here.
        if (px4) {
          const home = this.tel.altAmslM !== undefined && this.tel.relativeAltM !== undefined
            ? this.tel.altAmslM - this.tel.relativeAltM : NaN;
          return { command: MAV_CMD.NAV_TAKEOFF, params: [-1, 0, 0, NaN, NaN, NaN, home + alt], retryRefusals: false };
        }
        return { command: MAV_CMD.NAV_TAKEOFF, params: [0, 0, 0, 0, 0, 0, alt], retryRefusals: false };
      }
      case 'land':
        return { command: MAV_CMD.NAV_LAND, params: [0, 0, 0, px4 ? NaN : 0, px4 ? NaN : 0, px4 ? NaN : 0, px4 ? NaN : 0], retryRefusals: false };
      case 'set_mode': {
        const modeName = String(params.mode ?? '');
        const req = modeRequest(this.cfg.autopilot, modeName);
        if (!req) {
          throw new FlightInputError('AIRLOCK_FLIGHT_MODE', `${this.name}: set_mode: ${this.cfg.autopilot} has no mode "${modeName}"`);
        }
        // Retried like arming: ArduPilot refuses GUIDED until it has a position estimate.
        return { command: MAV_CMD.DO_SET_MODE, params: [MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, req.param2, req.param3, 0, 0, 0, 0], retryRefusals: true };
      }
      case 'return':
      case 'rtl':
        return { command: MAV_CMD.NAV_RETURN_TO_LAUNCH, params: [0, 0, 0, 0, 0, 0, 0], retryRefusals: false };
      case 'reposition': {
        // DO_REPOSITION belongs in COMMAND_INT (PX4 and ArduPilot take it there): here, at an
        // altitude above home; x/y INT32_MAX = "keep the current position" (MAVLink common.xml).
        const alt = num('altitude', NaN);
        if (!(alt > 0)) {
          throw new FlightInputError('AIRLOCK_FLIGHT_COMMAND', `${this.name}: reposition needs altitude (metres above home)`);
        }
        const INT32_MAX = 2147483647;
        return { command: MAV_CMD.DO_REPOSITION, params: [-1, 1, 0, NaN, 0, 0, alt], retryRefusals: false, int: { frame: 6 /* GLOBAL_RELATIVE_ALT_INT */, x: INT32_MAX, y: INT32_MAX } };
      }
      case 'reboot':
        return { command: MAV_CMD.PREFLIGHT_REBOOT_SHUTDOWN, params: [1, 0, 0, 0, 0, 0, 0], retryRefusals: false };
      case 'preflight_calibration':
        // param1 gyro, param3 ground pressure, param5 accelerometer (1 = calibrate)
        return {
          command: MAV_CMD.PREFLIGHT_CALIBRATION,
          params: [num('gyro', 1), num('magnetometer', 0), num('pressure', 0), num('radio', 0), num('accelerometer', 0), 0, 0],
          retryRefusals: false,
        };
    }
    // Any MAV_CMD by name (MAV_CMD_DO_SET_SERVO or DO_SET_SERVO) with param1..param7.
    const key = name.toUpperCase().replace(/^MAV_CMD_/, '');
    const id = (common.MavCmd as unknown as Record<string, number>)[key];
    if (typeof id !== 'number') {
      throw new FlightInputError(
        'AIRLOCK_FLIGHT_COMMAND',
        `${this.name}: unknown command "${name}" (arm, disarm, takeoff, land, return, reposition, set_mode, reboot, preflight_calibration, or a MAV_CMD name)`,
      );
    }
    const p = [1, 2, 3, 4, 5, 6, 7].map((i) => num(`param${i}`, 0));
    return { command: id, params: p, retryRefusals: false };
  }

  async command(
    name: string,
    params: Record<string, number | string>,
    opts: { timeoutMs: number; retries: number },
  ): Promise<CommandResult> {
    const spec = this.spec(name, params);
    if (!this.opened) throw new FlightError('AIRLOCK_FLIGHT_CLOSED', this.name, name, 'link is not open');
    if (this.quiet) {
      throw new FlightError('AIRLOCK_FLIGHT_QUIET', this.name, name, 'link is quiet (a phase asserts no_mavlink): nothing may be sent', 'input');
    }
    const started = Date.now();
    const textsBefore = this.tel.lastStatustext?.n ?? 0;
    const deadline = started + opts.timeoutMs;
    const ackWindow = Math.max(250, Math.floor(opts.timeoutMs / (Math.max(0, opts.retries) + 1)));
    let attempts = 0;
    let unanswered = 0;
    let confirmation = 0;
    let last: { result: number } | undefined;
    const log = this.ctx.log.child({ command: name });
    // Every distinct STATUSTEXT since the command began: the autopilot's stated reasons.
    const statustext = (): string | undefined => {
      if (!(this.tel.lastStatustext && this.tel.lastStatustext.n > textsBefore)) return undefined;
      const seen = [...new Set(this.texts.filter((t) => t.at >= started).map((t) => t.text))];
      return seen.length ? seen.join(' | ') : this.tel.lastStatustext.text;
    };

    while (Date.now() < deadline) {
      attempts++;
      if (spec.int) {
        this.send(MSG.COMMAND_INT, {
          targetSystem: this.cfg.systemId,
          targetComponent: AUTOPILOT_COMPID,
          frame: spec.int.frame,
          command: spec.command,
          current: 0,
          autocontinue: 0,
          _param1: spec.params[0], _param2: spec.params[1], _param3: spec.params[2], _param4: spec.params[3],
          _param5: spec.int.x, _param6: spec.int.y, _param7: spec.params[6],
        });
      } else this.send(MSG.COMMAND_LONG, {
        targetSystem: this.cfg.systemId,
        targetComponent: AUTOPILOT_COMPID,
        command: spec.command,
        confirmation,
        _param1: spec.params[0], _param2: spec.params[1], _param3: spec.params[2], _param4: spec.params[3],
        _param5: spec.params[4], _param6: spec.params[5], _param7: spec.params[6],
      });
      const ack = await this.waitAck(spec.command, Math.min(ackWindow, deadline - Date.now()));
      if (!this.opened) throw new FlightError('AIRLOCK_FLIGHT_CLOSED', this.name, name, 'link closed while waiting for COMMAND_ACK');
      if (ack === undefined) {
        // No answer: retransmit with the confirmation counter raised, as the protocol asks.
        unanswered++;
        confirmation = Math.min(255, confirmation + 1);
        log.warn({ attempt: attempts }, 'no COMMAND_ACK');
        if (unanswered > opts.retries) break;
        continue;
      }
      last = { result: ack };
      const resultName = MAV_RESULT_NAMES[ack] ?? `RESULT_${ack}`;
      log.info({ result: resultName, attempt: attempts, statustext: statustext() }, 'COMMAND_ACK');
      if (ack === 0) return { result: 'ACCEPTED', attempts, ...(statustext() ? { statustext: statustext() } : {}) };
      const retryable = ack === 1 || (spec.retryRefusals && (ack === 4 || ack === 2));
      if (!retryable) break;
      confirmation = 0;
      const pause = Math.min(REFUSAL_RETRY_MS, deadline - Date.now());
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
    if (last === undefined) {
      const heard = this.tel.lastPacketAt >= started;
      throw new FlightError(
        heard ? 'AIRLOCK_FLIGHT_NO_ACK' : this.scanner.counters.badBytes > 0 ? 'AIRLOCK_FLIGHT_GARBAGE' : 'AIRLOCK_FLIGHT_SILENT',
        this.name,
        name,
        `no COMMAND_ACK after ${attempts} attempt(s) in ${opts.timeoutMs} ms` +
          (heard ? ' (telemetry still arrives)' : ` (nothing valid heard; ${this.scanner.counters.badBytes} bad bytes)`),
      );
    }
    const text = statustext();
    return { result: MAV_RESULT_NAMES[last.result] ?? `RESULT_${last.result}`, attempts, ...(text ? { statustext: text } : {}) };
  }

  private waitAck(command: number, ms: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: number | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.ackListeners.delete(listener);
        this.ackWaits.delete(abort);
        resolve(v);
      };
      const abort = () => finish(undefined);
      const listener = (cmd: number, result: number) => {
        if (cmd === command && result !== 5 /* IN_PROGRESS: keep waiting */) finish(result);
      };
      const timer = setTimeout(() => finish(undefined), Math.max(0, ms));
      this.ackListeners.add(listener);
      this.ackWaits.add(abort);
    });
  }

  // ------------------------------------------------------------ conditions

  private holds(cond: FlightCondition): boolean {
    const t = this.tel;
    if (cond === 'heartbeat') return t.lastHeartbeatAt > 0 && Date.now() - t.lastHeartbeatAt <= this.cfg.heartbeatTimeoutMs;
    if (cond === 'armed') return t.armed === true;
    if (cond === 'disarmed') return t.armed === false;
    if (cond === 'landed') {
      if (t.landedState !== undefined) return t.landedState === MAV_LANDED_STATE.ON_GROUND;
      // No EXTENDED_SYS_STATE (refused, or an autopilot without it): a multicopter is on the
      // ground when disarmed, or when its fresh altitude above home is under half a metre.
      if (t.armed === false) return true;
      return t.relativeAltM !== undefined && t.positionAt !== undefined && Date.now() - t.positionAt < 2000 && t.relativeAltM < 0.5;
    }
    return t.relativeAltM !== undefined && t.relativeAltM > cond.altitudeAbove;
  }

  /** The message a condition rests on, when none has come from the vehicle since `since`. */
  private missingMessage(cond: FlightCondition, since: number): [number, string] | undefined {
    const need: [number, string] | undefined =
      typeof cond === 'object' ? [MSG.GLOBAL_POSITION_INT, 'GLOBAL_POSITION_INT']
        : cond === 'landed' ? (this.tel.landedState === undefined && this.tel.relativeAltM === undefined && this.tel.armed !== false ? [MSG.EXTENDED_SYS_STATE, 'EXTENDED_SYS_STATE'] : undefined)
          : undefined;
    if (!need) return undefined;
    const last = this.book.lastSeen(need[0]);
    return last === undefined || last < since ? need : undefined;
  }

  waitFor(cond: FlightCondition, timeoutMs: number): Promise<void> {
    const label = typeof cond === 'string' ? cond : `altitude above ${cond.altitudeAbove} m`;
    if (this.holds(cond)) return Promise.resolve();
    const started = Date.now();
    const badAtStart = this.scanner.counters.badBytes;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.opened) return finish(new FlightError('AIRLOCK_FLIGHT_CLOSED', this.name, `waitFor ${label}`, 'link closed'));
        if (this.holds(cond)) finish();
      };
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => {
        if (this.holds(cond)) return finish();
        const heard = this.tel.lastPacketAt >= started;
        const bad = this.scanner.counters.badBytes - badAtStart;
        let err: FlightError;
        if (!heard && bad > 0) {
          err = new FlightError('AIRLOCK_FLIGHT_GARBAGE', this.name, `waitFor ${label}`,
            `no valid MAVLink from system ${this.cfg.systemId} in ${timeoutMs} ms, only ${bad} damaged bytes`);
        } else if (!heard) {
          err = new FlightError('AIRLOCK_FLIGHT_SILENT', this.name, `waitFor ${label}`,
            `no MAVLink from system ${this.cfg.systemId} in ${timeoutMs} ms (is the vehicle powered, the endpoint right?)`);
        } else if (this.missingMessage(cond, started)) {
          const [msgid, msgName] = this.missingMessage(cond, started)!;
          err = new FlightError('AIRLOCK_FLIGHT_NO_MESSAGE', this.name, `waitFor ${label}`,
            `no ${msgName} in ${Math.round(timeoutMs / 1000)} s: ${this.book.describe(msgid, msgName)}`, 'inconclusive');
        } else {
          const mode = this.tel.customMode !== undefined ? modeName(this.cfg.autopilot, this.tel.customMode) : 'unknown';
          err = new FlightError('AIRLOCK_FLIGHT_WAIT_TIMEOUT', this.name, `waitFor ${label}`,
            `not reached in ${timeoutMs} ms (armed ${this.tel.armed}, mode ${mode}, ${this.tel.relativeAltM !== undefined ? `altitude ${this.tel.relativeAltM} m` : 'altitude unknown: no GLOBAL_POSITION_INT yet'}` +
              `${this.tel.lastStatustext ? `, last STATUSTEXT "${this.tel.lastStatustext.text}"` : ''})`,
            'inconclusive');
        }
        finish(err);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

export { nowUs };
