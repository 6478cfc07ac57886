/**
 * Scenario file → ScenarioConfig: parameters substituted, schema checked, units converted,
 * every phase, step and assertion carrying its source position. Pure: reads one file.
 */
import { dirname, resolve } from 'node:path';
import { CONFIG_CODES, ConfigError, type ConfigIssue } from './errors.js';
import { substituteParams } from './params.js';
import { isObj, Reader, type Obj } from './reader.js';
import { refuseOtherKind, sortIssues } from './rig.js';
import { schemaIssues } from './schema.js';
import { loadConfigSource, type ConfigSource, type PosIndex, type Seg } from './source.js';
import type { Assertion, Phase, PressPattern, ScenarioConfig, SourcePos, Step, WaitCondition } from './types.js';
import { parseCurrent, parseDuration, parseRadioThreshold } from './units.js';

/**
 * Where each step's and assertion's fields are in the file, for checkScenarioAgainstRig:
 * `base` is the path of the item's kind key (`phases/1/steps/0/power`).
 */
export const itemOrigins = new WeakMap<object, { index: PosIndex; base: Seg[] }>();
const scenarioIndexes = new WeakMap<ScenarioConfig, PosIndex>();

/** Where a key path of a loaded scenario is in its file (e.g. `['rig']`), for messages about it. */
export function scenarioPosition(s: ScenarioConfig, path: Array<string | number>): SourcePos {
  return scenarioIndexes.get(s)?.at(path) ?? { file: s.file, line: 1, col: 1 };
}

export const STEP_TIMEOUTS_MS = {
  power: 10_000,
  press: 10_000,
  wait_for: 30_000,
  mavlink: 30_000,
  mark: 1_000,
  prompt: 600_000,
  device: 10_000,
  lab: 10_000,
} as const;
/** A dwell's default timeout is its duration plus this. */
export const DWELL_TIMEOUT_MARGIN_MS = 5_000;

const WAIT_KEYS = ['heartbeat', 'armed', 'disarmed', 'landed', 'altitude_above', 'current_above', 'current_below', 'console'] as const;

export function loadScenario(file: string, opts: { set?: Record<string, string> } = {}): ScenarioConfig {
  return scenarioFromSource(loadConfigSource(file), opts);
}

export function scenarioFromSource(src: ConfigSource, opts: { set?: Record<string, string> } = {}): ScenarioConfig {
  refuseOtherKind(src, 'scenario');
  const p = substituteParams(src, opts.set);
  const issues = schemaIssues('scenario', src.data, src.index);
  const r = new Reader(src);
  const scenario = convertScenario(r, isObj(src.data) ? src.data : {}, src, p.params);
  // A value whose parameter could not be substituted gets that one error, not a unit error too.
  const paramPaths = new Set(p.issues.map((i) => i.path));
  const rest = [...issues, ...r.issues].filter((i) => !paramPaths.has(i.path));
  const all: ConfigIssue[] = sortIssues([...p.issues, ...rest]).map((i) => {
    const note = p.notes.get(i.path);
    return note ? { ...i, message: `${i.message} ${note}` } : i;
  });
  if (all.length > 0) throw new ConfigError(CONFIG_CODES.invalid, all);
  scenarioIndexes.set(scenario, src.index);
  return scenario;
}

function convertScenario(r: Reader, d: Obj, src: ConfigSource, params: Record<string, string>): ScenarioConfig {
  const phases: Phase[] = [];
  const seen = new Map<string, number>();
  (Array.isArray(d.phases) ? d.phases : []).forEach((ph: unknown, i: number) => {
    if (!isObj(ph)) return;
    const path: Seg[] = ['phases', i];
    const name = r.str(ph.name) ?? '';
    if (name !== '') {
      const first = seen.get(name);
      if (first !== undefined) {
        r.fail([...path, 'name'], `duplicate phase name "${name}" (first used at line ${r.pos(['phases', first]).line}); phase names must be unique`);
      } else seen.set(name, i);
    }
    const steps: Step[] = [];
    (Array.isArray(ph.steps) ? ph.steps : []).forEach((st: unknown, j: number) => {
      const s = convertStep(r, st, [...path, 'steps', j]);
      if (s) steps.push(s);
    });
    const allow = isObj(ph.allow) ? { hosts: r.strings(ph.allow.hosts), names: r.strings(ph.allow.names) } : undefined;
    phases.push({ name, steps, assertions: convertAssertions(r, ph.assert, [...path, 'assert']), ...(allow ? { allow } : {}), pos: r.pos(path) });
  });
  const settings = isObj(d.settings) ? Object.fromEntries(Object.entries(d.settings).map(([k, v]) => [k, String(v)])) : {};
  return {
    file: src.absFile,
    name: r.str(d.scenario) ?? '',
    ...(typeof d.description === 'string' ? { description: d.description } : {}),
    ...(typeof d.rig === 'string' ? { rig: resolve(dirname(src.absFile), d.rig) } : {}),
    params,
    settings,
    settleMs: r.unit(d, 'settle', [], parseDuration, { dflt: 500, min: 'nonneg' }),
    phases,
    runAssertions: convertAssertions(r, d.assert, ['assert']),
  };
}

/** The single key of a step or assertion item, or undefined (the schema reports why). */
function singleKey(v: unknown): [string, unknown] | undefined {
  if (!isObj(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 ? [keys[0]!, v[keys[0]!]] : undefined;
}

function timeout(r: Reader, o: Obj, path: Seg[], dflt: number): number {
  return r.unit(o, 'timeout', path, parseDuration, { dflt, min: 'positive', what: 'the timeout' });
}

function convertStep(r: Reader, item: unknown, path: Seg[]): Step | undefined {
  const kv = singleKey(item);
  if (!kv) return undefined;
  const [kind, raw] = kv;
  const base = [...path, kind];
  const o = r.obj(raw);
  const pos = r.pos(path);
  let step: Step | undefined;
  switch (kind) {
    case 'power': {
      const action = (r.str(o.action) ?? 'on') as 'on' | 'off' | 'cycle';
      if (o.off_time !== undefined && action !== 'cycle') r.fail([...base, 'off_time'], 'off_time applies only to action: cycle');
      step = {
        kind,
        channel: r.str(o.channel) ?? '',
        action,
        ...(action === 'cycle' ? { offTimeMs: r.unit(o, 'off_time', base, parseDuration, { dflt: 2000, min: 'positive', what: 'the off time' }) } : {}),
        timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.power),
        pos,
      };
      break;
    }
    case 'press': {
      let pattern: PressPattern = 'short';
      if (typeof o.pattern === 'string') pattern = o.pattern as PressPattern;
      else if (Array.isArray(o.pattern)) {
        const list = o.pattern as unknown[];
        pattern = { custom: list.map((_, k) => r.unit(list, k, [...base, 'pattern'], parseDuration, { min: 'positive', what: 'a press or release time' })) };
      }
      step = { kind, button: r.str(o.button) ?? '', pattern, timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.press), pos };
      break;
    }
    case 'wait_for': {
      const present = WAIT_KEYS.filter((k) => o[k] !== undefined);
      if (present.length !== 1 && isObj(raw)) {
        r.fail(base, present.length === 0
          ? `wait_for needs one condition: ${WAIT_KEYS.join(', ')}`
          : `wait_for takes exactly one condition, found ${present.length}: ${present.join(', ')} (use one wait_for step each)`);
      }
      const k = present[0];
      let condition: WaitCondition = { heartbeat: '' };
      const sub = k ? r.obj(o[k]) : {};
      const sp = k ? [...base, k] : base;
      switch (k) {
        case 'heartbeat':
          condition = { heartbeat: r.str(o[k]) ?? '' };
          break;
        case 'armed':
          condition = { armed: r.str(o[k]) ?? '' };
          break;
        case 'disarmed':
          condition = { disarmed: r.str(o[k]) ?? '' };
          break;
        case 'landed':
          condition = { landed: r.str(o[k]) ?? '' };
          break;
        case 'altitude_above':
          condition = { altitudeAbove: { link: r.str(sub.link) ?? '', meters: typeof sub.meters === 'number' ? sub.meters : NaN } };
          break;
        case 'current_above':
          condition = { currentAbove: { channel: r.str(sub.channel) ?? '', amps: r.unit(sub, 'limit', sp, parseCurrent, { min: 'nonneg' }) } };
          break;
        case 'current_below':
          condition = { currentBelow: { channel: r.str(sub.channel) ?? '', amps: r.unit(sub, 'limit', sp, parseCurrent, { min: 'positive', what: 'the limit' }) } };
          break;
        case 'console': {
          const pattern = r.str(sub.pattern) ?? '';
          try {
            new RegExp(pattern);
          } catch (e) {
            r.fail([...sp, 'pattern'], `not a valid regular expression: ${(e as Error).message}`);
          }
          condition = { console: { device: r.str(sub.device) ?? '', pattern } };
          break;
        }
        default:
          break;
      }
      step = { kind, condition, timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.wait_for), pos };
      break;
    }
    case 'dwell': {
      const holder: Obj = isObj(raw) ? raw : { duration: raw };
      const dpath = isObj(raw) ? base : path;
      const dkey = isObj(raw) ? 'duration' : 'dwell';
      const durationMs = r.unit(isObj(raw) ? holder : (item as Obj), dkey, dpath, parseDuration, { min: 'positive', what: 'the dwell' });
      const t = isObj(raw) ? timeout(r, holder, base, durationMs + DWELL_TIMEOUT_MARGIN_MS) : durationMs + DWELL_TIMEOUT_MARGIN_MS;
      if (isObj(raw) && raw.timeout !== undefined && t <= durationMs) {
        r.fail([...base, 'timeout'], `the timeout (${t} ms) must be longer than the dwell (${durationMs} ms)`);
      }
      step = { kind, durationMs, timeoutMs: t, pos };
      break;
    }
    case 'mavlink': {
      const params = isObj(o.params)
        ? Object.fromEntries(Object.entries(o.params).filter((e): e is [string, string | number] => typeof e[1] === 'string' || typeof e[1] === 'number'))
        : {};
      step = {
        kind,
        link: r.str(o.link) ?? '',
        command: r.str(o.command) ?? '',
        params,
        retries: r.int(o.retries, 3),
        timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.mavlink),
        pos,
      };
      break;
    }
    case 'mark':
    case 'prompt': {
      const text = typeof raw === 'string' ? raw : (r.str(o.text) ?? '');
      step = { kind, text, timeoutMs: isObj(raw) ? timeout(r, o, base, STEP_TIMEOUTS_MS[kind]) : STEP_TIMEOUTS_MS[kind], pos };
      break;
    }
    case 'device':
      step = { kind, device: r.str(o.device) ?? '', action: r.str(o.action) ?? '', timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.device), pos };
      break;
    case 'lab': {
      const services = (['uplink', 'update-server'] as const).filter((k) => o[k] !== undefined);
      if (services.length !== 1 && isObj(raw)) {
        r.fail(base, services.length === 0
          ? 'lab needs one service: uplink or update-server'
          : `lab takes exactly one service, found ${services.length}: ${services.join(', ')} (use one lab step each)`);
      }
      const service = services[0] ?? 'uplink';
      step = { kind, service, state: o[service] === 'on' ? 'on' : 'off', timeoutMs: timeout(r, o, base, STEP_TIMEOUTS_MS.lab), pos };
      break;
    }
    default:
      return undefined; // unknown kind: the schema reported it
  }
  if (!step) return undefined;
  itemOrigins.set(step, { index: r.src.index, base });
  return step;
}

function convertAssertions(r: Reader, list: unknown, path: Seg[]): Assertion[] {
  const out: Assertion[] = [];
  (Array.isArray(list) ? list : []).forEach((item: unknown, i: number) => {
    const kv = singleKey(item);
    if (!kv) return;
    const [kind, raw] = kv;
    const ipath = [...path, i];
    const base = [...ipath, kind];
    const o = r.obj(raw);
    const pos = r.pos(ipath);
    let a: Assertion;
    switch (kind) {
      case 'no_egress':
        a = { kind, allowNames: r.strings(o.allow_names), ...(Array.isArray(o.devices) ? { devices: r.strings(o.devices) } : {}), pos };
        break;
      case 'no_dns':
        a = { kind, allowNames: r.strings(o.allow_names), pos };
        break;
      case 'no_mavlink':
        a = { kind, link: r.str(o.link) ?? '', pos };
        break;
      case 'no_radio': {
        let threshold: ReturnType<typeof parseRadioThreshold> = { dbm: NaN };
        if (o.threshold !== undefined) {
          try {
            threshold = parseRadioThreshold(o.threshold as string);
          } catch (e) {
            r.fail([...base, 'threshold'], (e as Error).message);
          }
        }
        a = {
          kind,
          bands: r.strings(o.bands),
          threshold,
          minDurationMs: r.unit(o, 'min_duration', base, parseDuration, { dflt: 0, min: 'nonneg' }),
          pos,
        };
        break;
      }
      case 'radio_only':
        a = { kind, transmitters: r.strings(o.transmitters), pos };
        break;
      case 'no_remote_id':
      case 'no_probe_requests':
        a = { kind, pos };
        break;
      case 'current_below':
      case 'current_above':
        a = {
          kind,
          channel: r.str(o.channel) ?? '',
          amps: r.unit(o, 'limit', base, parseCurrent, kind === 'current_below' ? { min: 'positive', what: 'the limit' } : { min: 'nonneg' }),
          pos,
        };
        break;
      case 'traffic_only_to':
        a = { kind, hosts: r.strings(o.hosts), pos };
        break;
      default:
        return;
    }
    itemOrigins.set(a, { index: r.src.index, base });
    out.push(a);
  });
  return out;
}
