export {
  FirmwareHost,
  makeFirmwareHost,
  makeFirmwareButton,
  sendDeviceAction,
  firmwareArgv,
  FIRMWARE_HOST_MODULE,
  LONG_PRESS_MS,
  AMPS_ON,
  AMPS_STANDBY,
  AMPS_OFF,
} from './firmware-host.js';
export type { FirmwareSpec } from './firmware-host.js';
export { PROFILES, isProfileName } from './profiles/index.js';
export type { ProfileName, FirmwareProfile } from './profiles/index.js';
export { FirmwareError } from './errors.js';
