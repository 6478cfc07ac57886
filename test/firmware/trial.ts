/**
 * One firmware trial on a fresh virtual lab: captures on every device's bridge port and on the
 * air, the given profiles powered on, soft-powered-off by a long press of the button contact,
 * then power cut. Returns the phase marks and readers over the capture files (tcpdump's view).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualLab } from '../../src/sim/lab/index.js';
import { FirmwareHost } from '../../src/sim/firmware/firmware-host.js';
import { NetworkCapture } from '../../src/devices/capture/net-capture.js';
import type { CaptureResult } from '../../src/devices/capture/capture.js';
import { labRig, testRunId } from '../lab/lab-rig.js';
import { sh, waitFor } from '../lab/lab-helpers.js';

export interface Packet {
  t: number;
  line: string;
}

export interface TrialResult {
  lab: VirtualLab;
  runDir: string;
  /** Power on, soft power-off (SIGTERM sent), power cut, end. */
  T0: number;
  T1: number;
  T2: number;
  T3: number;
  amps: Record<'on' | 'softOff' | 'cut', Record<string, number>>;
  marks: Record<string, number>;
  groupAfterSoftOff: Record<string, number>;
  groupAfterCut: Record<string, number>;
  captures: Record<string, CaptureResult>;
  /** tcpdump -tt of a capture ('drone', 'controller', 'phone', 'air0'), optionally filtered. */
  packets(capture: string, filter?: string, from?: number, to?: number): Packet[];
  /** tcpdump -A text of a capture (payloads as ASCII). */
  ascii(capture: string, filter: string): string;
  console(device: string): string;
  /** When the device's firmware printed its first console line containing `text` (its own clock, ms), if it did. */
  consoleAt(device: string, text: string): number | undefined;
}

/** The time of the first console line (`ISO-time device[pid]: text`) holding `text`. */
export function consoleLineAt(log: string, text: string): number | undefined {
  const line = log.split('\n').find((l) => l.includes(text));
  const t = line ? Date.parse(line.split(' ')[0]!) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTrial(
  profiles: Record<'drone' | 'controller' | 'phone', string>,
  opts: {
    poweredMs: number;
    softOffMs: number;
    params?: Record<string, Record<string, string>>;
    /** Runs while powered (the soft power-off waits for it); may set marks. */
    during?: (lab: VirtualLab, T0: number, marks: Record<string, number>, view: Pick<TrialResult, 'console'>) => Promise<void>;
  },
): Promise<TrialResult> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-fw-'));
  const lab = await VirtualLab.up({ runId: testRunId(), rig: labRig(), runDir });
  try {
    const names = ['drone', 'controller', 'phone', 'air0'];
    const caps = names.map(
      (n) => new NetworkCapture({ name: n, ...lab.captureTarget(n), file: path.join(runDir, `net-${n}.pcap`), runDir, bufferSize: 8 << 20, snaplen: 65535 }),
    );
    await Promise.all(caps.map((c) => c.start()));
    const hosts = Object.fromEntries(
      Object.entries(profiles).map(([d, p]) => [d, new FirmwareHost(lab.firmwareSpec(d, { firmware: p, params: opts.params?.[d] }))]),
    );
    const each = <T>(fn: (h: FirmwareHost, d: string) => T) => Object.fromEntries(Object.entries(hosts).map(([d, h]) => [d, fn(h, d)]));
    const consoleOf = (d: string) => {
      try {
        return fs.readFileSync(path.join(runDir, `console-${d}.log`), 'utf8');
      } catch {
        return '';
      }
    };
    const marks: Record<string, number> = {};
    const T0 = Date.now();
    each((h) => h.setPowered(true));
    const during = opts.during?.(lab, T0, marks, { console: consoleOf });
    // Powered time counts from every firmware's boot line, not from power-on: starting node
    // takes seconds on a loaded host, and a profile given 5 s powered must have its 5 s.
    await waitFor(() => Object.keys(profiles).every((d) => consoleOf(d).includes(': boot (')), 60_000, 'every firmware booted');
    await sleep(opts.poweredMs - 200);
    const on = each((h) => h.amps(12));
    await during;
    // Long press on every button contact: closed, held past 1 s, released.
    each((h) => h.setClosed(true));
    await sleep(LONG);
    const T1 = Date.now();
    each((h) => h.setClosed(false));
    await sleep(opts.softOffMs);
    const softOff = each((h) => h.amps(12));
    const groupAfterSoftOff = each((h) => h.groupPids().length);
    const T2 = Date.now();
    each((h) => h.setPowered(false));
    await sleep(1200);
    const cut = each((h) => h.amps(12));
    const groupAfterCut = each((h) => h.groupPids().length);
    const T3 = Date.now();
    const captures = Object.fromEntries(await Promise.all(caps.map(async (c) => [c.name, await c.stop()] as const)));
    const file = (c: string) => path.join(runDir, `net-${c}.pcap`);
    return {
      lab,
      runDir,
      T0,
      T1,
      T2,
      T3,
      amps: { on, softOff, cut },
      marks,
      groupAfterSoftOff,
      groupAfterCut,
      captures,
      packets(c, filter = '', from = 0, to = Infinity) {
        return sh(`TZ=UTC tcpdump -nn -tt -r ${file(c)} ${filter ? `'${filter}'` : ''} 2>/dev/null`)
          .split('\n')
          .filter(Boolean)
          .map((line) => ({ t: Number(line.split(' ')[0]) * 1000, line }))
          .filter((p) => p.t >= from && p.t <= to);
      },
      ascii(c, filter) {
        return sh(`TZ=UTC tcpdump -nn -A -r ${file(c)} '${filter}' 2>/dev/null`);
      },
      console: consoleOf,
      consoleAt: (d, text) => consoleLineAt(consoleOf(d), text),
    };
  } catch (e) {
    await lab.down();
    throw e;
  }
}

/** The button hold used for a long press (the firmware host acts at 1 s). */
const LONG = 1100;
