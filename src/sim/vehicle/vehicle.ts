/**
 * The virtual rig's MAVLink vehicle: a quadcopter that behaves as ArduPilot Copter or PX4 does
 * where a ground station notices (flavours.ts says what differs): what it streams unasked and
 * what only on request (SET_MESSAGE_INTERVAL, REQUEST_DATA_STREAM, REQUEST_MESSAGE), its mode
 * numbers, pre-arm refusals with their STATUSTEXT, takeoff, landing and disarming by itself,
 * ACK results, AUTOPILOT_VERSION; over a real serial port (its end of a PTY pair).
 */
import { SerialPort } from 'serialport';
import {
  FrameScanner,
  PacketEncoder,
  decodePacket,
  message,
  MSG,
  MAV_CMD,
  MAGIC_FORCE_ARM,
  MAV_LANDED_STATE,
  modeName,
  modeRequest,
  ARDUPILOT_ARMABLE,
  PX4_ARMABLE,
  packetMsgId,
} from '../../devices/flight/index.js';
import { ARDUPILOT_GROUPS, FLAVOURS } from './flavours.js';
import type { Flavour, FlavourSpec } from './flavours.js';

export type { Flavour } from './flavours.js';

export interface VehicleSim {
  stop(): Promise<void>;
  setTransmitting(on: boolean): void;
}

export interface VehicleOptions {
  path: string;
  baudRate: number;
  systemId: number;
  /** Which autopilot to be (default ardupilot). */
  flavour?: Flavour;
  log?: (line: string) => void;
  /** Time from start until pre-arm checks pass (ms, default 2000: short, so the shipped scenarios stay well under 90 s; real SITL takes tens of seconds, see docs/technician/autopilots.md). */
  prearmDelayMs?: number;
  /** MAVLink version the vehicle sends (default 2). */
  mavlinkVersion?: 1 | 2;
  /** Climb rate on takeoff (m/s, ArduPilot WPNAV_SPEED_UP default 2.5). */
  climbRate?: number;
  /** Descent rate when landing (m/s). */
  landRate?: number;
  /** Armed on the ground this long without a takeoff: auto-disarm (ms; ArduPilot DISARM_DELAY, PX4 COM_DISARM_PRFLT; 10 s). */
  disarmDelayMs?: number;
  /** ArduPilot SRn_* stream rates by group name (EXTENDED_STATUS, POSITION, EXTRA1, EXTRA2), Hz. Copter's default: all 0. */
  streamRates?: Record<string, number>;
  /** false: an autopilot before MAVLink's message-interval commands (ArduPilot 3.x): SET_MESSAGE_INTERVAL and REQUEST_MESSAGE are UNSUPPORTED. */
  messageInterval?: boolean;
  /** Flight software version reported in AUTOPILOT_VERSION ("4.5.7"). */
  version?: string;
  /** Git hash reported in AUTOPILOT_VERSION (first 8 characters / bytes). */
  gitHash?: string;
}

const MAV_TYPE_QUADROTOR = 2;
const MAV_STATE_STANDBY = 3;
const MAV_STATE_ACTIVE = 4;
const MAV_COMP_ID_AUTOPILOT1 = 1;
const SEVERITY_CRITICAL = 2;
const SEVERITY_INFO = 6;
const RESULT = { ACCEPTED: 0, TEMPORARILY_REJECTED: 1, DENIED: 2, UNSUPPORTED: 3, FAILED: 4 } as const;
// Home: a field near Canberra (CMAC, where ArduPilot SITL starts), 584 m AMSL.
const HOME_LAT = -35.363262;
const HOME_LON = 149.165237;
const HOME_ALT_M = 584;
const TICK_MS = 50;
/** Messages this simulator can produce on request. */
const PRODUCIBLE = new Set<number>([MSG.SYS_STATUS, MSG.ATTITUDE, MSG.GLOBAL_POSITION_INT, MSG.VFR_HUD, MSG.EXTENDED_SYS_STATE]);

export async function startVehicle(opts: VehicleOptions): Promise<VehicleSim> {
  const port = new SerialPort({ path: opts.path, baudRate: opts.baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const sim = new Vehicle(port, opts);
  sim.start();
  return sim;
}

class Vehicle implements VehicleSim {
  private readonly encoder: PacketEncoder;
  private readonly scanner: FrameScanner;
  private readonly log: (line: string) => void;
  private readonly spec: FlavourSpec;
  private readonly flavour: Flavour;
  private bootAt = Date.now();
  private transmitting = true;
  private timer?: NodeJS.Timeout;
  private tickCount = 0;
  /** Reboot in progress: silent until this time. */
  private silentUntil = 0;
  private prearmOkAt: number;
  /** Message id -> interval (ms) and the next time it is due; what is streamed. */
  private readonly streams = new Map<number, { intervalMs: number; nextAt: number }>();

  // flight state
  private armed = false;
  private armedAt = 0;
  private tookOff = false;
  private mode: number;
  private alt = 0; // metres above home
  private vz = 0; // m/s, up positive
  private targetAlt = 0;
  /** RTL: climbing to the return altitude first. */
  private returning = false;
  private landed: number = MAV_LANDED_STATE.ON_GROUND;
  private touchdownAt = 0;
  private yaw = 0;

  constructor(
    private readonly port: SerialPort,
    private readonly opts: VehicleOptions,
  ) {
    this.flavour = opts.flavour ?? 'ardupilot';
    this.spec = FLAVOURS[this.flavour];
    this.encoder = new PacketEncoder(opts.systemId, MAV_COMP_ID_AUTOPILOT1);
    this.encoder.version = opts.mavlinkVersion ?? 2;
    this.log = opts.log ?? (() => {});
    this.mode = this.bootMode();
    this.prearmOkAt = this.bootAt + (opts.prearmDelayMs ?? 2000);
    this.defaultStreams();
    this.scanner = new FrameScanner((p) => this.receive(p));
    port.on('data', (chunk: Buffer) => this.scanner.push(chunk));
    port.on('error', (err) => this.log(`serial error: ${err.message}`));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.sendHeartbeat();
  }

  setTransmitting(on: boolean): void {
    this.transmitting = on;
    this.log(`transmitting ${on ? 'on' : 'off'}`);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.drain(() => resolve()));
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  // ------------------------------------------------------------ modes

  private bootMode(): number {
    // ArduPilot boots in STABILIZE; PX4 (no RC) in Position mode.
    return modeRequest(this.flavour, this.flavour === 'px4' ? 'POSCTL' : 'STABILIZE')!.customMode;
  }

  private modeIs(...names: string[]): boolean {
    return names.includes(modeName(this.flavour, this.mode));
  }

  private setModeNamed(name: string): void {
    this.setMode(modeRequest(this.flavour, name)!.customMode);
  }

  // ------------------------------------------------------------ streams

  /** What streams unasked: PX4's Normal set; ArduPilot's SRn_* groups (0 on Copter). */
  private defaultStreams(): void {
    this.streams.clear();
    const now = Date.now();
    for (const [id, hz] of Object.entries(this.spec.defaultRates)) this.setRate(Number(id), hz, now);
    if (this.flavour === 'ardupilot') {
      for (const [group, hz] of Object.entries(this.opts.streamRates ?? {})) {
        const g = Object.values(ARDUPILOT_GROUPS).find((x) => x.name === group.toUpperCase());
        for (const id of g?.messages ?? []) this.setRate(id, hz, now);
      }
    }
  }

  private setRate(msgid: number, hz: number, now: number): void {
    if (!(hz > 0)) this.streams.delete(msgid);
    else this.streams.set(msgid, { intervalMs: 1000 / hz, nextAt: now });
  }

  // ------------------------------------------------------------ transmit

  private send(msgid: number, fields: Record<string, unknown>): void {
    if (!this.transmitting || Date.now() < this.silentUntil || !this.port.isOpen) return;
    this.port.write(this.encoder.encode(message(msgid, fields)));
  }

  private statustext(severity: number, text: string): void {
    this.log(`STATUSTEXT ${text}`);
    this.send(MSG.STATUSTEXT, { severity, text, id: 0, chunkSeq: 0 });
  }

  private sendHeartbeat(): void {
    let baseMode = 1 | 16; // CUSTOM_MODE_ENABLED | STABILIZE_ENABLED
    if (this.flavour === 'ardupilot' ? this.modeIs('GUIDED', 'AUTO') : this.modeIs('AUTO.LOITER', 'AUTO.TAKEOFF', 'AUTO.LAND', 'AUTO.RTL', 'AUTO.MISSION')) baseMode |= 8;
    if (this.armed) baseMode |= 128;
    this.send(MSG.HEARTBEAT, {
      type: MAV_TYPE_QUADROTOR,
      autopilot: this.spec.autopilot,
      baseMode,
      customMode: this.mode,
      systemStatus: this.armed ? MAV_STATE_ACTIVE : MAV_STATE_STANDBY,
      mavlinkVersion: 3,
    });
  }

  private sendMessage(id: number, now: number): void {
    const bootMs = now - this.bootAt;
    switch (id) {
      case MSG.ATTITUDE:
        this.send(MSG.ATTITUDE, {
          timeBootMs: bootMs, roll: 0.01 * Math.sin(bootMs / 700), pitch: 0.01 * Math.cos(bootMs / 900), yaw: this.yaw,
          rollspeed: 0, pitchspeed: 0, yawspeed: 0,
        });
        return;
      case MSG.GLOBAL_POSITION_INT:
        this.send(MSG.GLOBAL_POSITION_INT, {
          timeBootMs: bootMs,
          lat: Math.round(HOME_LAT * 1e7),
          lon: Math.round(HOME_LON * 1e7),
          alt: Math.round((HOME_ALT_M + this.alt) * 1000),
          relativeAlt: Math.round(this.alt * 1000),
          vx: 0,
          vy: 0,
          vz: Math.round(-this.vz * 100), // NED: down positive, cm/s
          hdg: Math.round((((this.yaw * 180) / Math.PI + 360) % 360) * 100),
        });
        return;
      case MSG.VFR_HUD:
        this.send(MSG.VFR_HUD, {
          airspeed: 0, groundspeed: 0, heading: Math.round(((this.yaw * 180) / Math.PI + 360) % 360),
          throttle: this.armed ? 45 : 0, alt: HOME_ALT_M + this.alt, climb: this.vz,
        });
        return;
      case MSG.SYS_STATUS: {
        const flying = this.armed;
        this.send(MSG.SYS_STATUS, {
          onboardControlSensorsPresent: 0x0020fc0f,
          onboardControlSensorsEnabled: 0x0020fc0f,
          onboardControlSensorsHealth: now >= this.prearmOkAt ? 0x0020fc0f : 0x0020fc03,
          load: 300,
          voltageBattery: flying ? 15_800 : 16_600,
          currentBattery: flying ? 1_850 : 60, // cA
          batteryRemaining: 95,
          dropRateComm: 0, errorsComm: 0, errorsCount1: 0, errorsCount2: 0, errorsCount3: 0, errorsCount4: 0,
        });
        return;
      }
      case MSG.EXTENDED_SYS_STATE:
        this.send(MSG.EXTENDED_SYS_STATE, { vtolState: 0, landedState: this.landed });
        return;
    }
  }

  private sendAutopilotVersion(): void {
    const v = this.spec.version;
    const [major, minor, patch] = (this.opts.version ?? `${v.major}.${v.minor}.${v.patch}`).split('.').map(Number);
    const hash = this.opts.gitHash ?? v.gitHash;
    // ArduPilot: 8 ASCII characters of the hash. PX4: the hash's first 8 bytes, binary.
    const custom = v.hashIsAscii ? [...Buffer.from(hash.slice(0, 8).padEnd(8, '\0'), 'latin1')] : [...Buffer.from(hash.padEnd(16, '0').slice(0, 16), 'hex')];
    this.send(MSG.AUTOPILOT_VERSION, {
      capabilities: 0xffefn, // MISSION_FLOAT ... MAVLINK2 (what both advertise, roughly)
      flightSwVersion: (((major! & 0xff) << 24) | ((minor! & 0xff) << 16) | ((patch! & 0xff) << 8) | 255) >>> 0,
      middlewareSwVersion: 0,
      osSwVersion: 0,
      boardVersion: v.boardVersion,
      flightCustomVersion: custom,
      middlewareCustomVersion: [0, 0, 0, 0, 0, 0, 0, 0],
      osCustomVersion: [0, 0, 0, 0, 0, 0, 0, 0],
      vendorId: v.vendorId,
      productId: v.productId,
      uid: 0x4149524c4f434bn, // "AIRLOCK"
      uid2: new Array(18).fill(0),
    });
  }

  private tick(): void {
    const now = Date.now();
    this.physics(now, TICK_MS / 1000);
    if (this.tickCount++ % 20 === 0) this.sendHeartbeat();
    for (const [id, st] of this.streams) {
      if (now < st.nextAt) continue;
      this.sendMessage(id, now);
      st.nextAt = Math.max(st.nextAt + st.intervalMs, now - TICK_MS);
    }
  }

  private physics(now: number, dt: number): void {
    if (!this.armed) {
      this.vz = 0;
      return;
    }
    const climbRate = this.opts.climbRate ?? 2.5;
    // 1.5 m/s: within ArduPilot's LAND_SPEED range (30-200 cm/s), quicker than its 50 cm/s
    // default, so the shipped scenarios stay well inside their 90 s.
    const landRate = this.opts.landRate ?? 1.5;
    if (this.returning && this.alt < this.spec.rtlAltM) {
      this.targetAlt = this.spec.rtlAltM;
    } else if (this.returning) {
      this.returning = false; // at the return altitude, above home (the vehicle never leaves it): descend
    }
    const landing = this.modeIs('LAND', 'AUTO.LAND') || (this.modeIs('RTL', 'AUTO.RTL') && !this.returning);
    if (landing) {
      if (this.alt > 0) {
        this.landed = MAV_LANDED_STATE.LANDING;
        this.vz = -(this.alt > 10 ? 1.5 : landRate);
        this.alt = Math.max(0, this.alt + this.vz * dt);
        if (this.alt === 0) this.touchdownAt = now;
      } else {
        this.vz = 0;
        this.landed = MAV_LANDED_STATE.ON_GROUND;
        if (!this.touchdownAt) this.touchdownAt = now;
        // The land detector needs about a second of ground; then ArduPilot disarms at once in
        // LAND, PX4 after COM_DISARM_LAND.
        if (now - this.touchdownAt > 1000 + this.spec.disarmAfterLandMs) this.disarm('landed');
      }
      return;
    }
    if (this.targetAlt > this.alt + 0.05) {
      this.vz = climbRate;
      this.alt = Math.min(this.targetAlt, this.alt + climbRate * dt);
      this.tookOff = true;
      this.landed = this.alt >= this.targetAlt * 0.95 ? MAV_LANDED_STATE.IN_AIR : MAV_LANDED_STATE.TAKEOFF;
      if (this.alt >= this.targetAlt) {
        this.vz = 0;
        // PX4's takeoff mode ends in Hold.
        if (this.modeIs('AUTO.TAKEOFF')) this.setModeNamed('AUTO.LOITER');
      }
    } else if (this.alt > 0) {
      this.vz = 0;
      this.landed = MAV_LANDED_STATE.IN_AIR;
      this.yaw = (this.yaw + 0.02 * dt) % (2 * Math.PI);
    } else if (!this.tookOff && now - this.armedAt > (this.opts.disarmDelayMs ?? this.spec.disarmIdleMs)) {
      this.disarm('disarm delay');
    }
  }

  private disarm(why: string): void {
    if (!this.armed) return;
    this.armed = false;
    this.targetAlt = 0;
    this.vz = 0;
    this.returning = false;
    this.landed = MAV_LANDED_STATE.ON_GROUND;
    this.touchdownAt = 0;
    this.log(`disarmed (${why})`);
    this.statustext(SEVERITY_INFO, this.flavour === 'px4' ? 'Disarmed by ' + (why === 'landed' ? 'landing' : 'auto preflight disarming') : 'Disarming motors');
  }

  // ------------------------------------------------------------ receive

  private receive(packet: Buffer): void {
    const id = packetMsgId(packet, 0);
    if (id !== MSG.COMMAND_LONG && id !== MSG.COMMAND_INT && id !== MSG.SET_MODE && id !== MSG.REQUEST_DATA_STREAM) return;
    const msg = decodePacket(packet) as unknown as Record<string, number> | undefined;
    if (!msg || msg.targetSystem !== this.opts.systemId) return;
    if (id === MSG.SET_MODE) {
      this.setMode(msg.customMode!);
      return;
    }
    if (id === MSG.REQUEST_DATA_STREAM) {
      this.requestDataStream(msg.reqStreamId!, msg.reqMessageRate!, msg.startStop!);
      return;
    }
    const cmd = msg.command!;
    const p = [msg._param1!, msg._param2!, msg._param3!, msg._param4!, msg._param5!, msg._param6!, msg._param7!];
    // COMMAND_INT: x, y are degrees * 1e7, z a float altitude in `frame`.
    const result = id === MSG.COMMAND_INT ? this.commandInt(cmd, msg.frame!, p) : this.command(cmd, p);
    this.send(MSG.COMMAND_ACK, {
      command: cmd,
      result,
      progress: 0,
      resultParam2: 0,
      targetSystem: packet[0] === 0xfe ? packet[3] : packet[5],
      targetComponent: packet[0] === 0xfe ? packet[4] : packet[6],
    });
  }

  /** ArduPilot sets the rate of a whole stream group; PX4 does not implement the message. */
  private requestDataStream(streamId: number, hz: number, startStop: number): void {
    this.log(`REQUEST_DATA_STREAM ${streamId} ${hz} Hz ${startStop ? 'start' : 'stop'}`);
    if (!this.spec.dataStreams) return;
    const groups = streamId === 0 ? Object.values(ARDUPILOT_GROUPS) : ARDUPILOT_GROUPS[streamId] ? [ARDUPILOT_GROUPS[streamId]!] : [];
    for (const g of groups) for (const id of g.messages) this.setRate(id, startStop ? hz : 0, Date.now());
  }

  private commandInt(cmd: number, frame: number, p: number[]): number {
    this.log(`COMMAND_INT ${cmd} frame ${frame} [${p.join(', ')}]`);
    if (cmd !== MAV_CMD.DO_REPOSITION) return this.command(cmd, p);
    // DO_REPOSITION: z is the altitude in the frame (0 GLOBAL = AMSL, 3/6 relative to home).
    if (!this.armed || this.alt <= 0) return RESULT.DENIED;
    if (this.flavour === 'ardupilot' && !this.modeIs('GUIDED')) return RESULT.DENIED;
    const z = p[6]!;
    if (Number.isFinite(z)) this.targetAlt = frame === 0 ? z - HOME_ALT_M : z;
    if (this.flavour === 'px4') this.setModeNamed('AUTO.LOITER');
    return RESULT.ACCEPTED;
  }

  private command(cmd: number, p: number[]): number {
    const now = Date.now();
    this.log(`COMMAND_LONG ${cmd} [${p.join(', ')}]`);
    const px4 = this.flavour === 'px4';
    switch (cmd) {
      case MAV_CMD.COMPONENT_ARM_DISARM: {
        const force = Math.round(p[1]!) === MAGIC_FORCE_ARM;
        if (p[0] === 1) {
          if (this.armed) return RESULT.ACCEPTED;
          if (!force && now < this.prearmOkAt) {
            this.statustext(SEVERITY_CRITICAL, this.spec.prearmText);
            return this.spec.prearmResult;
          }
          const name = modeName(this.flavour, this.mode);
          if (!force && !(px4 ? PX4_ARMABLE : ARDUPILOT_ARMABLE).has(name)) {
            this.statustext(SEVERITY_CRITICAL, px4 ? `Arming denied: ${name} mode not armable` : 'Arm: Mode not armable');
            return px4 ? RESULT.TEMPORARILY_REJECTED : RESULT.FAILED;
          }
          this.armed = true;
          this.armedAt = now;
          this.tookOff = false;
          this.touchdownAt = 0;
          this.statustext(SEVERITY_INFO, px4 ? 'Armed by external command' : 'Arming motors');
          return RESULT.ACCEPTED;
        }
        if (p[0] === 0) {
          if (!this.armed) return RESULT.ACCEPTED;
          if (!force && this.alt > 0) {
            this.statustext(SEVERITY_CRITICAL, px4 ? 'Disarming denied: not landed' : 'Disarm: vehicle is flying');
            return px4 ? RESULT.TEMPORARILY_REJECTED : RESULT.FAILED;
          }
          this.disarm('command');
          return RESULT.ACCEPTED;
        }
        return RESULT.UNSUPPORTED;
      }
      case MAV_CMD.NAV_TAKEOFF: {
        if (px4) {
          // param7 AMSL; NaN: MIS_TAKEOFF_ALT above home.
          if (!this.armed || this.alt > 0) return RESULT.TEMPORARILY_REJECTED;
          const target = Number.isFinite(p[6]!) ? p[6]! - HOME_ALT_M : this.spec.defaultTakeoffAltM;
          if (!(target > 0)) return RESULT.DENIED;
          this.setModeNamed('AUTO.TAKEOFF');
          this.targetAlt = target;
        } else {
          // Mode::do_user_takeoff: armed, on the ground, and a mode with user takeoff (GUIDED here)
          if (!this.modeIs('GUIDED') || !this.armed || this.alt > 0 || !(p[6]! > 0)) return RESULT.FAILED;
          this.targetAlt = p[6]!;
        }
        this.landed = MAV_LANDED_STATE.TAKEOFF;
        return RESULT.ACCEPTED;
      }
      case MAV_CMD.NAV_LAND:
        this.setModeNamed(px4 ? 'AUTO.LAND' : 'LAND');
        return RESULT.ACCEPTED;
      case MAV_CMD.NAV_RETURN_TO_LAUNCH:
        if (!this.armed) return px4 ? RESULT.TEMPORARILY_REJECTED : RESULT.FAILED;
        this.setModeNamed(px4 ? 'AUTO.RTL' : 'RTL');
        return RESULT.ACCEPTED;
      case MAV_CMD.DO_REPOSITION:
        return this.commandInt(cmd, 0, p);
      case MAV_CMD.DO_SET_MODE: {
        const custom = px4 ? ((Math.round(p[1]!) << 16) | (Math.round(p[2]!) << 24)) >>> 0 : Math.round(p[1]!);
        return this.setMode(custom) ? RESULT.ACCEPTED : RESULT.FAILED;
      }
      case MAV_CMD.SET_MESSAGE_INTERVAL: {
        if (this.opts.messageInterval === false) return RESULT.UNSUPPORTED;
        const id = Math.round(p[0]!);
        const us = p[1]!;
        if (!PRODUCIBLE.has(id)) return RESULT.FAILED;
        if (us === -1) this.setRate(id, 0, now);
        else if (us === 0) this.setRate(id, this.spec.defaultRates[id] ?? 0, now);
        else if (us > 0) this.setRate(id, 1e6 / us, now);
        else return RESULT.DENIED;
        return RESULT.ACCEPTED;
      }
      case MAV_CMD.REQUEST_MESSAGE: {
        if (this.opts.messageInterval === false) return RESULT.UNSUPPORTED;
        const id = Math.round(p[0]!);
        if (id === MSG.AUTOPILOT_VERSION) setTimeout(() => this.sendAutopilotVersion(), 5);
        else if (PRODUCIBLE.has(id)) setTimeout(() => this.sendMessage(id, Date.now()), 5);
        else return RESULT.FAILED;
        return RESULT.ACCEPTED;
      }
      case MAV_CMD.REQUEST_AUTOPILOT_CAPABILITIES:
        if (Math.round(p[0]!) !== 1) return RESULT.DENIED;
        setTimeout(() => this.sendAutopilotVersion(), 5);
        return RESULT.ACCEPTED;
      case MAV_CMD.PREFLIGHT_REBOOT_SHUTDOWN: {
        if (this.armed) return RESULT.FAILED;
        if (Math.round(p[0]!) !== 1) return RESULT.UNSUPPORTED;
        // Acknowledge, then go quiet for a moment and come back as a fresh boot.
        setTimeout(() => this.reboot(), 50);
        return RESULT.ACCEPTED;
      }
      case MAV_CMD.PREFLIGHT_CALIBRATION:
        this.statustext(SEVERITY_CRITICAL, 'Calibration not available in simulation');
        return RESULT.DENIED;
      default:
        return RESULT.UNSUPPORTED;
    }
  }

  private setMode(mode: number): boolean {
    const name = modeName(this.flavour, mode);
    if (/^(MODE|MAIN|SUB)_|\.SUB_/.test(name) || modeRequest(this.flavour, name) === undefined) {
      this.statustext(SEVERITY_CRITICAL, this.flavour === 'px4' ? 'Mode change rejected' : 'Flight mode change failed');
      return false;
    }
    if (mode === this.mode) return true;
    this.mode = mode;
    this.log(`mode ${name}`);
    this.returning = this.modeIs('RTL', 'AUTO.RTL') && this.armed && this.alt > 0;
    if (!this.modeIs('LAND', 'AUTO.LAND', 'RTL', 'AUTO.RTL', 'AUTO.TAKEOFF') && this.armed && this.alt > 0) this.targetAlt = this.alt; // hold altitude
    return true;
  }

  private reboot(): void {
    this.log('rebooting');
    this.silentUntil = Date.now() + 1500;
    this.bootAt = this.silentUntil;
    this.mode = this.bootMode();
    this.alt = 0;
    this.targetAlt = 0;
    this.landed = MAV_LANDED_STATE.ON_GROUND;
    this.prearmOkAt = this.silentUntil + (this.opts.prearmDelayMs ?? 2000);
    // A fresh boot forgets what ground stations asked for.
    this.defaultStreams();
  }
}
