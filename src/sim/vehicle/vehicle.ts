/**
 * The virtual rig's MAVLink vehicle: a quadcopter that answers like ArduPilot Copter where a
 * ground station notices (mode numbers, pre-arm refusals with "PreArm:" STATUSTEXT, takeoff
 * only in GUIDED and armed, LAND descends and disarms on touchdown, ACK results), over a real
 * serial port (its end of a PTY pair) through `serialport`.
 *
 * Telemetry rates follow ArduPilot's default stream rates on a telemetry radio: HEARTBEAT 1 Hz,
 * SYS_STATUS 2 Hz, EXTENDED_SYS_STATE 2 Hz, GLOBAL_POSITION_INT 4 Hz, ATTITUDE 10 Hz.
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
  packetMsgId,
} from '../../devices/flight/index.js';

export interface VehicleSim {
  stop(): Promise<void>;
  setTransmitting(on: boolean): void;
}

export interface VehicleOptions {
  path: string;
  baudRate: number;
  systemId: number;
  log?: (line: string) => void;
  /** Time from start until pre-arm checks pass (ms, default 4000). */
  prearmDelayMs?: number;
  /** MAVLink version the vehicle sends (default 2). */
  mavlinkVersion?: 1 | 2;
  /** Climb rate on takeoff (m/s, ArduPilot WPNAV_SPEED_UP default 2.5). */
  climbRate?: number;
  /** Descent rate in LAND (m/s, ArduPilot LAND_SPEED default 0.5). */
  landRate?: number;
  /** Armed on the ground this long without a takeoff: auto-disarm (ms, ArduPilot DISARM_DELAY 10 s). */
  disarmDelayMs?: number;
}

const MAV_TYPE_QUADROTOR = 2;
const MAV_AUTOPILOT_ARDUPILOTMEGA = 3;
const MAV_STATE_STANDBY = 3;
const MAV_STATE_ACTIVE = 4;
const MAV_COMP_ID_AUTOPILOT1 = 1;
const SEVERITY_CRITICAL = 2;
const SEVERITY_INFO = 6;
const RESULT = { ACCEPTED: 0, TEMPORARILY_REJECTED: 1, DENIED: 2, UNSUPPORTED: 3, FAILED: 4 } as const;
const GUIDED = 4;
const LAND = 9;
const STABILIZE = 0;
// Home: a field near Canberra (CMAC, where ArduPilot SITL starts), 584 m AMSL.
const HOME_LAT = -35.363262;
const HOME_LON = 149.165237;
const HOME_ALT_M = 584;
const TICK_MS = 50;

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
  private readonly bootAt = Date.now();
  private transmitting = true;
  private timer?: NodeJS.Timeout;
  private tickCount = 0;
  /** Reboot in progress: silent until this time. */
  private silentUntil = 0;
  private prearmOkAt: number;

  // flight state
  private armed = false;
  private armedAt = 0;
  private mode = STABILIZE;
  private alt = 0; // metres above home
  private vz = 0; // m/s, up positive
  private targetAlt = 0;
  private landed: number = MAV_LANDED_STATE.ON_GROUND;
  private touchdownAt = 0;
  private yaw = 0;

  constructor(
    private readonly port: SerialPort,
    private readonly opts: VehicleOptions,
  ) {
    this.encoder = new PacketEncoder(opts.systemId, MAV_COMP_ID_AUTOPILOT1);
    this.encoder.version = opts.mavlinkVersion ?? 2;
    this.log = opts.log ?? (() => {});
    this.prearmOkAt = this.bootAt + (opts.prearmDelayMs ?? 4000);
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
    if (this.mode === GUIDED || this.mode === 3) baseMode |= 8; // GUIDED_ENABLED
    if (this.armed) baseMode |= 128;
    this.send(MSG.HEARTBEAT, {
      type: MAV_TYPE_QUADROTOR,
      autopilot: MAV_AUTOPILOT_ARDUPILOTMEGA,
      baseMode,
      customMode: this.mode,
      systemStatus: this.armed ? MAV_STATE_ACTIVE : MAV_STATE_STANDBY,
      mavlinkVersion: 3,
    });
  }

  private tick(): void {
    const now = Date.now();
    this.physics(now, TICK_MS / 1000);
    const n = this.tickCount++;
    const bootMs = now - this.bootAt;
    // 20 Hz tick: ATTITUDE every 2nd, GPI every 5th, SYS_STATUS / EXT_SYS_STATE every 10th, HB every 20th
    if (n % 20 === 0) this.sendHeartbeat();
    if (n % 2 === 0) {
      this.send(MSG.ATTITUDE, {
        timeBootMs: bootMs,
        roll: 0.01 * Math.sin(bootMs / 700),
        pitch: 0.01 * Math.cos(bootMs / 900),
        yaw: this.yaw,
        rollspeed: 0,
        pitchspeed: 0,
        yawspeed: 0,
      });
    }
    if (n % 5 === 1) {
      this.send(MSG.GLOBAL_POSITION_INT, {
        timeBootMs: bootMs,
        lat: Math.round(HOME_LAT * 1e7),
        lon: Math.round(HOME_LON * 1e7),
        alt: Math.round((HOME_ALT_M + this.alt) * 1000),
        relativeAlt: Math.round(this.alt * 1000),
        vx: 0,
        vy: 0,
        vz: Math.round(-this.vz * 100), // NED: down positive, cm/s
        hdg: Math.round(((this.yaw * 180) / Math.PI + 360) % 360 * 100),
      });
    }
    if (n % 10 === 3) {
      const flying = this.armed;
      this.send(MSG.SYS_STATUS, {
        onboardControlSensorsPresent: 0x0020fc0f,
        onboardControlSensorsEnabled: 0x0020fc0f,
        onboardControlSensorsHealth: now >= this.prearmOkAt ? 0x0020fc0f : 0x0020fc03,
        load: 300,
        voltageBattery: flying ? 15_800 : 16_600,
        currentBattery: flying ? 1_850 : 60, // cA
        batteryRemaining: 95,
        dropRateComm: 0,
        errorsComm: 0,
        errorsCount1: 0,
        errorsCount2: 0,
        errorsCount3: 0,
        errorsCount4: 0,
      });
    }
    if (n % 10 === 6) this.send(MSG.EXTENDED_SYS_STATE, { vtolState: 0, landedState: this.landed });
  }

  private physics(now: number, dt: number): void {
    if (!this.armed) {
      this.vz = 0;
      return;
    }
    const climbRate = this.opts.climbRate ?? 2.5;
    // 1 m/s: within ArduPilot's LAND_SPEED range (30-200 cm/s), quicker than its 50 cm/s default.
    const landRate = this.opts.landRate ?? 1.0;
    if (this.mode === LAND) {
      if (this.alt > 0) {
        this.landed = MAV_LANDED_STATE.LANDING;
        this.vz = -(this.alt > 10 ? 1.5 : landRate);
        this.alt = Math.max(0, this.alt + this.vz * dt);
        if (this.alt === 0) this.touchdownAt = now;
      } else {
        this.vz = 0;
        this.landed = MAV_LANDED_STATE.ON_GROUND;
        if (!this.touchdownAt) this.touchdownAt = now;
        // ArduPilot's LAND disarms once the land detector has seen the ground (about 1 s)
        if (now - this.touchdownAt > 1000) this.disarm('landed');
      }
      return;
    }
    if (this.targetAlt > this.alt + 0.05) {
      this.vz = climbRate;
      this.alt = Math.min(this.targetAlt, this.alt + climbRate * dt);
      this.landed = this.alt >= this.targetAlt * 0.95 ? MAV_LANDED_STATE.IN_AIR : MAV_LANDED_STATE.TAKEOFF;
      if (this.alt >= this.targetAlt) this.vz = 0;
    } else if (this.alt > 0) {
      this.vz = 0;
      this.landed = MAV_LANDED_STATE.IN_AIR;
      this.yaw = (this.yaw + 0.02 * dt) % (2 * Math.PI);
    } else if (now - this.armedAt > (this.opts.disarmDelayMs ?? 10_000)) {
      this.disarm('disarm delay');
    }
  }

  private disarm(why: string): void {
    if (!this.armed) return;
    this.armed = false;
    this.targetAlt = 0;
    this.vz = 0;
    this.landed = MAV_LANDED_STATE.ON_GROUND;
    this.touchdownAt = 0;
    this.log(`disarmed (${why})`);
    this.statustext(SEVERITY_INFO, 'Disarming motors');
  }

  // ------------------------------------------------------------ receive

  private receive(packet: Buffer): void {
    const id = packetMsgId(packet, 0);
    if (id !== MSG.COMMAND_LONG && id !== MSG.SET_MODE) return;
    const msg = decodePacket(packet) as unknown as Record<string, number> | undefined;
    if (!msg || msg.targetSystem !== this.opts.systemId) return;
    if (id === MSG.SET_MODE) {
      this.setMode(msg.customMode!);
      return;
    }
    const cmd = msg.command!;
    const result = this.command(cmd, [
      msg._param1!, msg._param2!, msg._param3!, msg._param4!, msg._param5!, msg._param6!, msg._param7!,
    ]);
    this.send(MSG.COMMAND_ACK, {
      command: cmd,
      result,
      progress: 0,
      resultParam2: 0,
      targetSystem: packet[0] === 0xfe ? packet[3] : packet[5],
      targetComponent: packet[0] === 0xfe ? packet[4] : packet[6],
    });
  }

  private command(cmd: number, p: number[]): number {
    const now = Date.now();
    this.log(`COMMAND_LONG ${cmd} [${p.join(', ')}]`);
    switch (cmd) {
      case MAV_CMD.COMPONENT_ARM_DISARM: {
        const force = Math.round(p[1]!) === MAGIC_FORCE_ARM;
        if (p[0] === 1) {
          if (this.armed) return RESULT.ACCEPTED;
          if (!force && now < this.prearmOkAt) {
            this.statustext(SEVERITY_CRITICAL, 'PreArm: Need Position Estimate');
            return RESULT.FAILED;
          }
          if (!force && !ARDUPILOT_ARMABLE.has(modeName('ardupilot', this.mode))) {
            this.statustext(SEVERITY_CRITICAL, 'Arm: Mode not armable');
            return RESULT.FAILED;
          }
          this.armed = true;
          this.armedAt = now;
          this.touchdownAt = 0;
          this.statustext(SEVERITY_INFO, 'Arming motors');
          return RESULT.ACCEPTED;
        }
        if (p[0] === 0) {
          if (!this.armed) return RESULT.ACCEPTED;
          if (!force && this.alt > 0) {
            this.statustext(SEVERITY_CRITICAL, 'Disarm: vehicle is flying');
            return RESULT.FAILED;
          }
          this.disarm('command');
          return RESULT.ACCEPTED;
        }
        return RESULT.UNSUPPORTED;
      }
      case MAV_CMD.NAV_TAKEOFF: {
        // Mode::do_user_takeoff: armed, on the ground, and a mode with user takeoff (GUIDED here)
        if (this.mode !== GUIDED || !this.armed || this.alt > 0 || !(p[6]! > 0)) return RESULT.FAILED;
        this.targetAlt = p[6]!;
        this.landed = MAV_LANDED_STATE.TAKEOFF;
        return RESULT.ACCEPTED;
      }
      case MAV_CMD.NAV_LAND:
        this.setMode(LAND);
        return RESULT.ACCEPTED;
      case MAV_CMD.DO_SET_MODE:
        return this.setMode(Math.round(p[1]!)) ? RESULT.ACCEPTED : RESULT.FAILED;
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
    const name = modeName('ardupilot', mode);
    if (name.startsWith('MODE_') || modeRequest('ardupilot', name) === undefined) {
      this.statustext(SEVERITY_CRITICAL, `Flight mode change failed`);
      return false;
    }
    if (mode === this.mode) return true;
    this.mode = mode;
    this.log(`mode ${name}`);
    if (mode !== LAND && this.armed && this.alt > 0) this.targetAlt = this.alt; // hold altitude
    return true;
  }

  private reboot(): void {
    this.log('rebooting');
    this.silentUntil = Date.now() + 1500;
    this.mode = STABILIZE;
    this.alt = 0;
    this.targetAlt = 0;
    this.landed = MAV_LANDED_STATE.ON_GROUND;
    this.prearmOkAt = this.silentUntil + (this.opts.prearmDelayMs ?? 4000);
  }
}
