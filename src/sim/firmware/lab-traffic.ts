/**
 * The traffic of a clean device: mDNS announcements on the lab, its radio link over the air,
 * the ground-station app's talk with the controller, and the drone's MAVLink over its serial
 * port (through the vehicle simulator). Every profile starts with this.
 */
import type { FirmwareContext } from './context.js';
import { watchActions } from './context.js';
import { parseDuration } from '../../config/index.js';
import { encodeOdidMessagePack, REMOTE_ID_BLE_PORT, REMOTE_ID_PORT } from '../radio/remote-id.js';

export const AIR_VIDEO_PORT = 5600;
export const AIR_CONTROL_PORT = 5601;
export const APP_PORT = 14551;
export const APP_TELEMETRY_PORT = 14550;

/** The radio link: the drone streams video-like bursts, the controller sends small control packets. */
export function startAir(ctx: FirmwareContext): () => void {
  if (!ctx.airPeer) return () => undefined;
  const peer = ctx.airPeer;
  if (ctx.device === 'drone') {
    ctx.sink(AIR_CONTROL_PORT);
    const frame = Buffer.alloc(1200, 0x5a);
    const video = ctx.every(200, () => {
      for (let i = 0; i < 3; i++) ctx.udp(peer, AIR_VIDEO_PORT, frame);
    });
    // Remote ID (ASTM F3411) broadcast once a second while powered, as the rule requires of a
    // drone in flight readiness, over Wi-Fi (the virtual Wi-Fi monitor writes a beacon) and over
    // Bluetooth 5 long range (the virtual BLE sniffer writes the extended advertising chain).
    const remoteId = ctx.every(1000, () => {
      const pack = encodeOdidMessagePack({ serial: 'SN-AIRLOCK-0001', lat: -35.363262, lon: 149.165237, altGeoM: 584, operatorLat: -35.3633, operatorLon: 149.1652, operatorId: 'AIRLOCK-OP-0001' });
      ctx.udp(peer, REMOTE_ID_PORT, pack);
      ctx.udp(peer, REMOTE_ID_BLE_PORT, pack);
    });
    return () => {
      video();
      remoteId();
    };
  }
  ctx.sink(AIR_VIDEO_PORT);
  return ctx.every(200, () => ctx.udp(peer, AIR_CONTROL_PORT, Buffer.from('RC 1500 1500 1000 1500')));
}

export async function startLabTraffic(ctx: FirmwareContext): Promise<void> {
  let network = true;
  ctx.every(2000, () => network && ctx.mdnsAnnounce(), { now: true });
  startAir(ctx);
  if (ctx.device === 'controller') {
    ctx.sink(APP_PORT);
    const phone = ctx.labHosts.phone;
    if (phone) ctx.every(1000, () => ctx.udp(phone, APP_TELEMETRY_PORT, Buffer.from('TELEMETRY alt=0 bat=100')));
  }
  if (ctx.device === 'phone') {
    // The ground-station app: polls the controller; `device` actions change what it does.
    ctx.sink(APP_TELEMETRY_PORT);
    const controller = ctx.labHosts.controller;
    let mode: 'foreground' | 'background' | 'closed' = 'foreground';
    let tick = 0;
    ctx.every(500, () => {
      tick++;
      if (!network || !controller || mode === 'closed') return;
      if (mode === 'background' && tick % 4 !== 0) return;
      ctx.udp(controller, APP_PORT, Buffer.from(`APP ${mode} ${tick}`));
    });
    watchActions(process.env.AIRLOCK_ACTIONS, (action) => {
      const [k, v] = action.split(':').map((s) => s.trim());
      if (k === 'app' && (v === 'background' || v === 'foreground')) mode = v;
      else if (k === 'app' && v === 'close') mode = 'closed';
      else if (k === 'app' && v === 'open') mode = 'foreground';
      else if (k === 'airplane-mode') network = v !== 'on';
      ctx.log(`action "${action}": app ${mode}, network ${network ? 'on' : 'off'}`);
    });
  }
  const serial = process.env.AIRLOCK_SERIAL;
  if (ctx.device === 'drone' && serial) {
    const mod = await import('../vehicle/vehicle.js');
    const options = vehicleOptionsFrom(ctx.params, process.env.AIRLOCK_AUTOPILOT);
    const vehicle = await mod.startVehicle({ path: serial, baudRate: Number(process.env.AIRLOCK_SERIAL_BAUD ?? 57600), systemId: Number(process.env.AIRLOCK_SYSTEM_ID ?? 1), ...options });
    ctx.onStop(() => vehicle.stop());
    ctx.log(`MAVLink vehicle (${options.flavour}) on ${serial}`);
  }
}

/**
 * The vehicle simulator's settings from the rig file: its flavour is the link's `autopilot`;
 * `firmware_params` may set `prearm` (a duration), `version`, `git_hash`, `message_interval`
 * (false: an ArduPilot 3.x that refuses SET_MESSAGE_INTERVAL) and ArduPilot's stream rates as
 * `sr_position`, `sr_extended_status`, `sr_extra1`, `sr_extra2` (Hz; Copter's default is 0).
 */
export function vehicleOptionsFrom(params: Record<string, string>, autopilot: string | undefined) {
  const streamRates: Record<string, number> = {};
  for (const [k, v] of Object.entries(params)) if (k.startsWith('sr_')) streamRates[k.slice(3).toUpperCase()] = Number(v);
  let prearm: number | undefined;
  try {
    prearm = params.prearm !== undefined ? parseDuration(params.prearm) : undefined;
  } catch {
    prearm = undefined; // a bad value keeps the default; the rig file is not the place to crash the firmware
  }
  return {
    flavour: (autopilot === 'px4' ? 'px4' : 'ardupilot') as 'px4' | 'ardupilot',
    ...(prearm !== undefined && Number.isFinite(prearm) ? { prearmDelayMs: prearm } : {}),
    ...(params.version ? { version: params.version } : {}),
    ...(params.git_hash ? { gitHash: params.git_hash } : {}),
    ...(params.message_interval === 'false' ? { messageInterval: false } : {}),
    streamRates,
  };
}
