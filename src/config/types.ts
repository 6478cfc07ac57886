/**
 * The validated, typed shape of rig and scenario files after loading. `src/config/` turns YAML
 * into these plain objects (units already converted: durations in ms, currents in A, volts in V,
 * frequencies in Hz, power in dBm); nothing here opens a port, a socket or a namespace.
 *
 * The shape is written once, in the JSON Schemas of schema/. json-schema-to-typescript generates
 * the files' types as written (src/config/generated/, `npm run docs`; a test fails when they are
 * stale), and every type below is derived from them by the rules of derive.ts: each field of a
 * schema has exactly one rule saying how it is loaded (renamed to camelCase, a unit string
 * converted to a number, a default filled in). A field added to a schema without a rule here, or
 * a rule left for a field the schema lost, fails typecheck (test/config/schema-types.test.ts).
 * What the loaders add beyond the file (`file`, `name` of a map entry, `pos`) is written here.
 */
import type { CamelKeys, Converted, Defaulted, Elsewhere, Entry, Normalise, ObjectForm, Same, SameDefaulted, Variants } from './derive.js';
import type { AirlockRigFile as RigFile } from './generated/rig-file.js';
import type { AirlockScenarioFile as ScenarioFile } from './generated/scenario-file.js';
import type { AirlockSuite as SuiteFile } from './generated/suite-file.js';

/** The files as written (generated from the schemas). */
export type { RigFile as RawRigFile, ScenarioFile as RawScenarioFile, SuiteFile as RawSuiteFile };

/** Where a value came from in its file, for error messages (1-based line and column). */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** An entry of a map written `name: {...}` carries its name once loaded. */
type Named<T> = { name: string } & T;

// ---------------------------------------------------------------- rig

type RawPower = Entry<RigFile['power']>;
type RawButton = Entry<RigFile['buttons']>;
type RawDevice = Entry<RigFile['devices']>;
type RawLink = Entry<RigFile['links']>;
type RawCaptures = NonNullable<RigFile['captures']>;
type RawNetworkCapture = Entry<RawCaptures['network']>;
type RawSdr = Entry<RawCaptures['sdr']>;
type RawBand = RawSdr['bands'][number];
type RawWifi = Entry<RawCaptures['wifi']>;
type RawBle = Entry<RawCaptures['ble']>;
type RawCanaries = NonNullable<RigFile['canaries']>;
type RawInjector = Entry<RawCanaries['inject']>;

export type PowerDriverName = RawPower['driver'];
export type ButtonDriverName = RawButton['driver'];

/** A power channel; `port` is a serial device path, `sim:NAME` on the virtual rig, or a URL for `netswitch`. */
export type RigPowerChannel = Named<
  Normalise<
    RawPower,
    {
      driver: Same;
      port: Same;
      /** 1-based channel of a multi-channel supply or relay board. */
      channel: SameDefaulted;
      /** Programmed output voltage (V), set and read back before the output is enabled. */
      volts: Converted<number>;
      /** Programmed current limit (A). */
      current_limit: Converted<number>;
      baud: Converted<number, 'baudRate'>;
      /** Per-command reply timeout (ms). */
      timeout: Defaulted<number, 'timeoutMs'>;
    }
  >
>;

export type RigButton = Named<
  Normalise<RawButton, { driver: Same; port: Same; channel: SameDefaulted; baud: Converted<number, 'baudRate'>; timeout: Defaulted<number, 'timeoutMs'> }>
>;

/**
 * A device under test. `firmware`: on the virtual rig a built-in profile name or a shell command
 * run in the device's namespace when its power comes on; on a real rig the firmware image file
 * (hashed, never run). `firmwareParams` are strings (`delay` for leaky-delayed).
 */
export type RigDevice = Named<
  Normalise<
    RawDevice,
    {
      address: Same;
      address6: Same;
      /** For tests; virtual rig only: the 802.1Q VLAN its link carries its traffic tagged with. */
      vlan: Same;
      power: Same;
      button: Same;
      link: Same;
      firmware: Same;
      firmware_params: Converted<Record<string, string>>;
      actions: Same;
    }
  >
>;

/** A MAVLink link: `systemId` is the vehicle's (what `no_mavlink` counts), `gcsSystemId` Airlock's own. */
export type RigLink = Named<
  Normalise<
    RawLink,
    {
      endpoint: Same;
      system_id: SameDefaulted;
      gcs_system_id: SameDefaulted;
      heartbeat_timeout: Defaulted<number, 'heartbeatTimeoutMs'>;
      autopilot: SameDefaulted;
    }
  >
>;

type RawCaptureFault = NonNullable<RawNetworkCapture['fault']>;

/** What a capture hidden by `filter_hides` does not see. */
export type HiddenProtocol = Extract<RawCaptureFault, { filter_hides: unknown }>['filter_hides'];

/**
 * The ways the virtual rig makes a capture blind on purpose, for tests: listening on a quiet
 * interface, a mirror port that goes down after the capture started, a capture filter that
 * hides a protocol, a mirror that does not copy one VLAN.
 */
export type CaptureFault = CamelKeys<RawCaptureFault>;

/** `captures.rotate`: a part ends before it would pass `bytes`, or once it has run `ms` (docs/technician/running.md). */
export type CaptureRotation = Normalise<NonNullable<RawCaptures['rotate']>, { size: Converted<number, 'bytes'>; duration: Converted<number, 'ms'> }>;

/** `bufferSize`: libpcap's buffer in bytes (default 32 MiB, see docs/developer/dependency-traps.md). */
export type RigNetworkCapture = Named<
  Normalise<
    RawNetworkCapture,
    {
      interface: Same;
      filter: Same;
      buffer_size: Defaulted<number, 'bufferSize'>;
      snaplen: SameDefaulted;
      /** For tests; virtual rig only: a blind capture on purpose (docs/technician/proof-of-sight.md). */
      fault: Converted<CaptureFault>;
    }
  >
>;

export type RigBand = Normalise<RawBand, { name: Same; low: Converted<number, 'lowHz'>; high: Converted<number, 'highHz'> }>;

/** An SDR: `hackrf_sweep`, `rtl_power`, or `virtual` (the virtual rig's SDR on the air link); `command` overrides the tool binary. */
export type RigSdr = Named<
  Normalise<RawSdr, { driver: Same; bands: Converted<RigBand[]>; bin_width: Converted<number, 'binWidthHz'>; args: Same; command: Same }>
>;

export type RigWifiMonitor = Named<Normalise<RawWifi, { interface: Same; channel: Same }>>;

/** `command`: a command that writes a BLE pcap to stdout (an nRF sniffer bridge), empty for the virtual sniffer. */
export type RigBle = Named<Normalise<RawBle, { command: SameDefaulted; driver: Defaulted<'command' | 'virtual'> }>>;

export type CanaryProtocolName = NonNullable<RawCanaries['protocols']>[number];

/** One canary injection point (docs/technician/proof-of-sight.md). */
export type RigCanaryInjector = Named<
  Normalise<RawInjector, { host: Same; interface: Same; source: Same; source6: Same; ssh: Same; helper: Same; crosses: Same }>
>;

export type RigCanaries = Normalise<
  RawCanaries,
  {
    interval: Defaulted<number, 'intervalMs'>;
    protocols: SameDefaulted;
    lab_target: Same;
    outside_target: SameDefaulted;
    /** Absent: no IPv6 canaries are sent. */
    lab_target6: Same;
    outside_target6: SameDefaulted;
    inject: Defaulted<Record<string, RigCanaryInjector>>;
  }
>;

export type RigConfig = {
  /** Absolute path of the file this came from. */
  file: string;
} & Normalise<
  RigFile,
  {
    rig: Converted<string, 'name'>;
    virtual: SameDefaulted;
    lab: Converted<
      Normalise<
        RigFile['lab'],
        {
          subnets: Same;
          sinkhole: Same;
          sinkhole6: Same;
          names: SameDefaulted;
          /** Where `run` reads the gateway sinkhole's log: a file on this host, or on `ssh` (user@host). */
          sinkhole_log: Same;
        }
      >
    >;
    devices: Converted<Record<string, RigDevice>>;
    /** In the rig file's order (safing switches them off in this order). */
    power: Defaulted<Record<string, RigPowerChannel>>;
    buttons: Defaulted<Record<string, RigButton>>;
    links: Defaulted<Record<string, RigLink>>;
    captures: Defaulted<
      Normalise<
        RawCaptures,
        {
          /** Network captures roll over into numbered parts past these limits (absent: one file per capture). */
          rotate: Converted<CaptureRotation>;
          network: Defaulted<Record<string, RigNetworkCapture>>;
          sdr: Defaulted<Record<string, RigSdr>>;
          wifi: Defaulted<Record<string, RigWifiMonitor>>;
          ble: Defaulted<Record<string, RigBle>>;
        }
      >
    >;
    power_sample_rate: Defaulted<number, 'powerSampleHz'>;
    /** 0 disables canaries (never in a certified run). */
    canary_interval: Defaulted<number, 'canaryIntervalMs'>;
    /** A fraction (0.001 = 0.1 %). */
    capture_loss_max: Converted<number>;
    /** Absent: derived for the virtual rig. */
    canaries: Converted<RigCanaries>;
  }
>;

// ---------------------------------------------------------------- scenario

type RawPhase = ScenarioFile['phases'][number];
type RawStep = RawPhase['steps'][number];
type RawAssert = NonNullable<RawPhase['assert']>[number];
type RawWait = NonNullable<RawStep['wait_for']>;
type RawCurrentLimit = NonNullable<RawWait['current_above']>;
type Body<T> = ObjectForm<T>;

/** custom: alternating closed/open durations in ms, starting closed. */
export type PressPattern = Extract<NonNullable<Body<RawStep['press']>['pattern']>, string> | { custom: number[] };

type CurrentCondition = Normalise<RawCurrentLimit, { channel: Same; limit: Converted<number, 'amps'> }>;

/** Exactly one condition. */
export type WaitCondition = {
  [K in keyof WaitConditions]-?: { [P in K]-?: Exclude<WaitConditions[K], undefined> };
}[keyof WaitConditions];
type WaitConditions = Normalise<
  RawWait,
  {
    heartbeat: Same;
    armed: Same;
    disarmed: Same;
    landed: Same;
    altitude_above: Converted<Normalise<NonNullable<RawWait['altitude_above']>, { link: Same; meters: Converted<number> }>>;
    current_above: Converted<CurrentCondition>;
    current_below: Converted<CurrentCondition>;
    console: Same;
    timeout: Elsewhere;
  }
>;

type RawLab = Body<RawStep['lab']>;

export type Step = Variants<
  RawStep,
  {
    power: Normalise<Body<RawStep['power']>, { channel: Same; action: Same; off_time: Converted<number, 'offTimeMs'>; timeout: Elsewhere }>;
    press: Normalise<Body<RawStep['press']>, { button: Same; pattern: Defaulted<PressPattern>; timeout: Elsewhere }>;
    wait_for: { condition: WaitCondition };
    dwell: Normalise<Body<RawStep['dwell']>, { duration: Converted<number, 'durationMs'>; timeout: Elsewhere }>;
    mavlink: Normalise<
      Body<RawStep['mavlink']>,
      { link: Same; command: Same; params: Defaulted<Record<string, number | string>>; retries: Defaulted<number>; timeout: Elsewhere }
    >;
    mark: Normalise<Body<RawStep['mark']>, { text: Same; timeout: Elsewhere }>;
    prompt: Normalise<Body<RawStep['prompt']>, { text: Same; timeout: Elsewhere }>;
    device: Normalise<Body<RawStep['device']>, { device: Same; action: Same; timeout: Elsewhere }>;
    lab: { service: Exclude<keyof RawLab, 'timeout'>; state: NonNullable<RawLab['uplink']> };
  }
> & { timeoutMs: number; pos: SourcePos };

/** `-70dBm` absolute, or `floor+10dB` relative to the band's measured noise floor. */
export type RadioThreshold = { dbm: number } | { aboveFloorDb: number };

type CurrentAssertion = Normalise<NonNullable<RawAssert['current_below']>, { channel: Same; limit: Converted<number, 'amps'> }>;

export type Assertion = Variants<
  RawAssert,
  {
    no_egress: Normalise<NonNullable<RawAssert['no_egress']>, { allow_names: SameDefaulted; devices: Same }>;
    no_dns: Normalise<NonNullable<RawAssert['no_dns']>, { allow_names: SameDefaulted }>;
    no_mavlink: Normalise<NonNullable<RawAssert['no_mavlink']>, { link: Same }>;
    no_radio: Normalise<
      NonNullable<RawAssert['no_radio']>,
      { bands: Same; threshold: Converted<RadioThreshold>; min_duration: Defaulted<number, 'minDurationMs'> }
    >;
    radio_only: Normalise<NonNullable<RawAssert['radio_only']>, { transmitters: Same }>;
    no_remote_id: Normalise<NonNullable<RawAssert['no_remote_id']>, {}>;
    no_probe_requests: Normalise<NonNullable<RawAssert['no_probe_requests']>, {}>;
    current_below: CurrentAssertion;
    current_above: CurrentAssertion;
    traffic_only_to: Normalise<NonNullable<RawAssert['traffic_only_to']>, { hosts: Same }>;
  }
> & { pos: SourcePos };

/**
 * A phase's explicit loosening of the run-wide egress policy (scenario `allow:`): device names,
 * `sinkhole`, addresses or CIDRs a packet may go to or come from, and DNS names (and everything
 * below them) that may be looked up.
 */
export type PhaseAllow = Normalise<NonNullable<RawPhase['allow']>, { hosts: SameDefaulted; names: SameDefaulted }>;

export type Phase = Normalise<
  RawPhase,
  {
    name: Same;
    /** Documentation for the reader of the file. */
    description: Elsewhere;
    steps: Converted<Step[]>;
    assert: Defaulted<Assertion[], 'assertions'>;
    allow: Converted<PhaseAllow>;
  }
> & { pos: SourcePos };

export type ScenarioConfig = {
  file: string;
} & Normalise<
  ScenarioFile,
  {
    scenario: Converted<string, 'name'>;
    description: Same;
    /** Resolved relative to the scenario file. */
    rig: Same;
    /** Parameter values in effect (defaults overridden by --set), as strings. */
    params: Defaulted<Record<string, string>>;
    /** Settings under test, recorded as evidence (airplane mode, vendor local-data mode...). */
    settings: Defaulted<Record<string, string>>;
    /** Margin trimmed at both ends of a phase's window before judging it (ms). */
    settle: Defaulted<number, 'settleMs'>;
    phases: Converted<Phase[]>;
    /** Assertions over the whole run (all phases). */
    assert: Defaulted<Assertion[], 'runAssertions'>;
  }
>;

// ---------------------------------------------------------------- suite

type RawSuiteEntry = SuiteFile['scenarios'][number];

/** One scenario of a suite: `scenario` as an absolute path, `set` the --set values as strings. */
export type SuiteEntry = Normalise<RawSuiteEntry, { scenario: Same; set: Defaulted<Record<string, string>> }> & { pos: SourcePos };

/**
 * A suite file (src/regression/suite-file.ts loads it): `file`, `scenario` and `rig` as absolute
 * paths; `firmware` the default firmware per device (image paths resolved against the suite file).
 */
export type SuiteConfig = { file: string } & Normalise<
  SuiteFile,
  { suite: Converted<string, 'name'>; description: Same; rig: Same; firmware: SameDefaulted; scenarios: Converted<SuiteEntry[]> }
>;
