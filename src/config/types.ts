/**
 * The validated, typed shape of rig and scenario files. `src/config/` turns YAML into
 * these plain objects (units already converted: durations in ms, currents in A, volts in V,
 * frequencies in Hz, power in dBm); nothing here opens a port, a socket or a namespace.
 *
 * The JSON Schemas in schema/ describe the YAML as written (with unit strings); these
 * types describe it after loading. Keep the two in step.
 */

/** Where a value came from in its file, for error messages (1-based line and column). */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

// ---------------------------------------------------------------- rig

export type PowerDriverName = 'scpi' | 'korad' | 'lcus' | 'netswitch' | 'manual';
export type ButtonDriverName = 'lcus' | 'manual';

export interface RigPowerChannel {
  name: string;
  driver: PowerDriverName;
  /** Serial device path, `sim:NAME` on the virtual rig, or a URL for `netswitch`. */
  port?: string;
  /** Channel number on a multi-channel supply or relay board (1-based). */
  channel: number;
  /** Programmed output voltage (V), set and read back before the output is enabled. */
  volts?: number;
  /** Programmed current limit (A), set and read back before the output is enabled. */
  currentLimit?: number;
  /** Serial baud rate (default per driver). */
  baudRate?: number;
  /** Per-command reply timeout (ms). */
  timeoutMs: number;
}

export interface RigButton {
  name: string;
  driver: ButtonDriverName;
  port?: string;
  channel: number;
  baudRate?: number;
  timeoutMs: number;
}

export interface RigDevice {
  name: string;
  /** Lab IPv4 address of the device's network interface. */
  address?: string;
  /** Lab IPv6 address (optional). */
  address6?: string;
  /** Power channel (key of `power`) feeding this device. */
  power?: string;
  /** Button (key of `buttons`) wired across the device's power button. */
  button?: string;
  /** MAVLink link (key of `links`) the device speaks on. */
  link?: string;
  /**
   * Virtual rig: a built-in firmware profile name or a shell command run in the device's
   * namespace when its power comes on. Real rig: the firmware image file (hashed, never run).
   */
  firmware?: string;
  /** Firmware profile parameters (e.g. `delay` for leaky-delayed), as strings. */
  firmwareParams?: Record<string, string>;
  /** Named actions for `device` steps on a real rig: shell command, or omitted to prompt the technician. */
  actions?: Record<string, string>;
}

export interface RigLink {
  name: string;
  /** `serial:/dev/ttyUSB0:57600`, `serial:sim:NAME:57600`, `udp:0.0.0.0:14550`, `tcp:127.0.0.1:5760`. */
  endpoint: string;
  /** System id of the vehicle on this link (what `no_mavlink` counts). */
  systemId: number;
  /** Airlock's own system id when it sends commands. */
  gcsSystemId: number;
  /** Heartbeat is lost after this long without one (ms). */
  heartbeatTimeoutMs: number;
  /** Autopilot dialect for mode names: ardupilot or px4. */
  autopilot: 'ardupilot' | 'px4';
}

export interface RigNetworkCapture {
  name: string;
  /** Interface to capture on. On the virtual rig: a lab host name (drone, controller, phone, sinkhole). */
  interface: string;
  /** Optional BPF filter. */
  filter?: string;
  /** libpcap buffer size in bytes (default 32 MiB, see docs/developer/dependency-traps.md). */
  bufferSize: number;
  snaplen: number;
  /** For tests; virtual rig only: a blind capture on purpose (docs/technician/proof-of-sight.md). */
  fault?: CaptureFault;
}

/** What a capture hidden by `filter_hides` does not see. */
export type HiddenProtocol = 'tcp' | 'udp' | 'icmp' | 'dns' | 'ip6';

/**
 * The ways the virtual rig makes a capture blind on purpose, for tests: listening on a quiet
 * interface, a mirror port that goes down after the capture started, a capture filter that
 * hides a protocol, a mirror that does not copy one VLAN.
 */
export type CaptureFault = 'wrong_interface' | 'interface_down' | { filterHides: HiddenProtocol } | { mirrorDropsVlan: number };

export interface RigBand {
  name: string;
  lowHz: number;
  highHz: number;
}

export interface RigSdr {
  name: string;
  /** `hackrf_sweep`, `rtl_power`, or `virtual` (the virtual rig's SDR on the air link). */
  driver: 'hackrf_sweep' | 'rtl_power' | 'virtual';
  bands: RigBand[];
  binWidthHz: number;
  /** Extra arguments for the tool (device serial, gain). */
  args?: string[];
  /** Tool binary override (tests point this at a stand-in). */
  command?: string;
}

export interface RigWifiMonitor {
  name: string;
  /** Monitor-mode interface, or `virtual` on the virtual rig. */
  interface: string;
  channel?: number;
}

export interface RigBle {
  name: string;
  /** `command`: a command that writes a BLE pcap to stdout (e.g. an nRF sniffer bridge); `virtual`: the virtual rig's sniffer. */
  driver: 'command' | 'virtual';
  /** The command (driver `command`); empty for the virtual sniffer. */
  command: string;
}

export interface RigConfig {
  /** Absolute path of the file this came from. */
  file: string;
  name: string;
  /** True for the virtual rig: Airlock builds the lab and the simulators itself. */
  virtual: boolean;
  lab: {
    /** CIDRs that are inside the lab (IPv4 and IPv6). */
    subnets: string[];
    /** The sinkhole's (lab gateway's) address. */
    sinkhole?: string;
    sinkhole6?: string;
    /** Host names that resolve inside the lab (allowed for DNS besides `.local`). */
    names: string[];
    /** Where `run` reads the gateway sinkhole's log: a file on this host, or on `ssh` (user@host). */
    sinkholeLog?: { path: string; ssh?: string };
  };
  devices: Record<string, RigDevice>;
  /** Power channels in the rig file's order (safing switches them off in this order). */
  power: Record<string, RigPowerChannel>;
  buttons: Record<string, RigButton>;
  links: Record<string, RigLink>;
  captures: {
    network: Record<string, RigNetworkCapture>;
    sdr: Record<string, RigSdr>;
    wifi: Record<string, RigWifiMonitor>;
    ble: Record<string, RigBle>;
  };
  /** Power reading rate (Hz), default 10. */
  powerSampleHz: number;
  /** Canary interval (ms) on the virtual rig; 0 disables (never in a certified run). */
  canaryIntervalMs: number;
  /** Where canaries are injected and which captures each must cross (absent: derived for the virtual rig). */
  canaries?: RigCanaries;
  /** Largest TCP capture loss (fraction, 0.001 = 0.1 %) that still proves sight. */
  captureLossMax?: number;
}

export type CanaryProtocolName = 'udp' | 'tcp' | 'icmp' | 'dns';

/** One canary injection point (docs/technician/proof-of-sight.md). */
export interface RigCanaryInjector {
  name: string;
  /** Virtual rig: the lab host (namespace) that sends. */
  host?: string;
  /** Interface the raw canaries leave by. */
  interface?: string;
  /** IPv4 address to send from. */
  source?: string;
  /** IPv6 address to send from (the rounds go over IPv6 too). */
  source6?: string;
  /** user@host of a lab-side host running `airlock canary-helper`. */
  ssh?: string;
  helper?: string;
  /** Network captures these canaries must appear in. */
  crosses: string[];
}

export interface RigCanaries {
  intervalMs: number;
  protocols: CanaryProtocolName[];
  labTarget?: string;
  outsideTarget: string;
  /** Lab IPv6 address of the IPv6 canaries (absent: none are sent). */
  labTarget6?: string;
  outsideTarget6: string;
  inject: Record<string, RigCanaryInjector>;
}

// ---------------------------------------------------------------- scenario

export type PressPattern =
  | 'short'
  | 'long'
  | 'double'
  | 'short-long'
  /** custom: alternating closed/open durations in ms, starting closed */
  | { custom: number[] };

export type WaitCondition =
  | { heartbeat: string }
  | { armed: string }
  | { disarmed: string }
  | { landed: string }
  | { altitudeAbove: { link: string; meters: number } }
  | { currentAbove: { channel: string; amps: number } }
  | { currentBelow: { channel: string; amps: number } }
  | { console: { device: string; pattern: string } };

export type Step = (
  | { kind: 'power'; channel: string; action: 'on' | 'off' | 'cycle'; offTimeMs?: number }
  | { kind: 'press'; button: string; pattern: PressPattern }
  | { kind: 'wait_for'; condition: WaitCondition }
  | { kind: 'dwell'; durationMs: number }
  | { kind: 'mavlink'; link: string; command: string; params: Record<string, number | string>; retries: number }
  | { kind: 'mark'; text: string }
  | { kind: 'prompt'; text: string }
  | { kind: 'device'; device: string; action: string }
  | { kind: 'lab'; service: 'uplink' | 'update-server'; state: 'on' | 'off' }
) & { timeoutMs: number; pos: SourcePos };

export type Assertion = (
  | { kind: 'no_egress'; allowNames: string[]; devices?: string[] }
  | { kind: 'no_dns'; allowNames: string[] }
  | { kind: 'no_mavlink'; link: string }
  | { kind: 'no_radio'; bands: string[]; threshold: RadioThreshold; minDurationMs: number }
  | { kind: 'radio_only'; transmitters: string[] }
  | { kind: 'no_remote_id' }
  | { kind: 'no_probe_requests' }
  | { kind: 'current_below'; channel: string; amps: number }
  | { kind: 'current_above'; channel: string; amps: number }
  | { kind: 'traffic_only_to'; hosts: string[] }
) & { pos: SourcePos };

/** `-70dBm` absolute, or `floor+10dB` relative to the band's measured noise floor. */
export type RadioThreshold = { dbm: number } | { aboveFloorDb: number };

/** A phase's explicit loosening of the run-wide egress policy (scenario `allow:`). */
export interface PhaseAllow {
  /** Device names, `sinkhole`, addresses or CIDRs a packet may go to or come from. */
  hosts: string[];
  /** DNS names (and everything below them) that may be looked up. */
  names: string[];
}

export interface Phase {
  name: string;
  steps: Step[];
  assertions: Assertion[];
  allow?: PhaseAllow;
  pos: SourcePos;
}

export interface ScenarioConfig {
  file: string;
  name: string;
  description?: string;
  /** Rig file named by the scenario (resolved relative to the scenario file). */
  rig?: string;
  /** Parameter values in effect (defaults overridden by --set). */
  params: Record<string, string>;
  /** Settings under test, recorded as evidence (airplane mode, vendor local-data mode...). */
  settings: Record<string, string>;
  /** Margin trimmed at both ends of a phase's window before judging it (ms). */
  settleMs: number;
  phases: Phase[];
  /** Assertions over the whole run (all phases). */
  runAssertions: Assertion[];
}
