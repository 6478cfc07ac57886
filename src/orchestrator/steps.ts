/**
 * Step executors: one function per step kind, each against capabilities only. A step that
 * cannot complete throws a StepFailure-shaped error: a device fault (rig fault, exit 4) or an
 * abort (a condition that never came, a refused command: exit 3).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Step, WaitCondition } from '../config/types.js';
import { AirlockError } from '../errors.js';
import type { StepFailure } from './run-machine.js';
import type { RigSession } from '../rig/session.js';

export class StepError extends Error implements StepFailure {
  constructor(
    readonly kind: 'fault' | 'abort',
    readonly reason: string,
    readonly fault?: StepFailure['fault'],
  ) {
    super(reason);
  }
}

/** Turns whatever a step threw into a StepFailure (fault when a device failed). */
export function toStepFailure(error: unknown, what: string): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof AirlockError && error.category === 'rig') {
    const e = error as AirlockError & { device?: string; command?: string };
    return new StepError('fault', `${what}: ${error.message}`, {
      code: error.code,
      message: error.message,
      device: e.device,
      command: e.command,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StepError('abort', `${what}: ${message}`);
}

/** Describes a step in one line for the timeline and the progress display. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'power':
      return `power ${step.channel} ${step.action}`;
    case 'press':
      return `press ${step.button} ${typeof step.pattern === 'string' ? step.pattern : 'custom'}`;
    case 'wait_for':
      return `wait for ${describeCondition(step.condition)}`;
    case 'dwell':
      return `dwell ${Math.round(step.durationMs / 100) / 10}s`;
    case 'mavlink':
      return `mavlink ${step.link} ${step.command}`;
    case 'mark':
      return `mark: ${step.text}`;
    case 'prompt':
      return `prompt: ${step.text}`;
    case 'device':
      return `device ${step.device}: ${step.action}`;
    case 'lab':
      return `lab ${step.service} ${step.state}`;
  }
}

function describeCondition(c: WaitCondition): string {
  if ('heartbeat' in c) return `heartbeat on ${c.heartbeat}`;
  if ('armed' in c) return `armed on ${c.armed}`;
  if ('disarmed' in c) return `disarmed on ${c.disarmed}`;
  if ('landed' in c) return `landed on ${c.landed}`;
  if ('altitudeAbove' in c) return `altitude above ${c.altitudeAbove.meters} m on ${c.altitudeAbove.link}`;
  if ('currentAbove' in c) return `current above ${c.currentAbove.amps} A on ${c.currentAbove.channel}`;
  if ('currentBelow' in c) return `current below ${c.currentBelow.amps} A on ${c.currentBelow.channel}`;
  return `console line /${c.console.pattern}/ on ${c.console.device}`;
}

function need<T>(map: ReadonlyMap<string, T>, name: string, what: string): T {
  const v = map.get(name);
  if (!v) throw new StepError('abort', `no ${what} named "${name}" on this rig`);
  return v;
}

/** Rejects after `ms` with an abort, unless the work finishes first. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepError('abort', `${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollCurrent(session: RigSession, channel: string, test: (amps: number) => boolean, signal: AbortSignal) {
  const ch = need(session.power, channel, 'power channel');
  for (;;) {
    if (signal.aborted) throw new StepError('abort', 'aborted');
    const r = await ch.read();
    if (r.amps !== null && test(r.amps)) return;
    // The sleep rejects only when the step is aborted; the loop's first line turns that into the step's error.
    await sleep(100, undefined, { signal }).catch(() => undefined);
  }
}

async function waitFor(session: RigSession, c: WaitCondition, timeoutMs: number, signal: AbortSignal): Promise<void> {
  if ('heartbeat' in c) return need(session.links, c.heartbeat, 'link').waitFor('heartbeat', timeoutMs);
  if ('armed' in c) return need(session.links, c.armed, 'link').waitFor('armed', timeoutMs);
  if ('disarmed' in c) return need(session.links, c.disarmed, 'link').waitFor('disarmed', timeoutMs);
  if ('landed' in c) return need(session.links, c.landed, 'link').waitFor('landed', timeoutMs);
  if ('altitudeAbove' in c)
    return need(session.links, c.altitudeAbove.link, 'link').waitFor({ altitudeAbove: c.altitudeAbove.meters }, timeoutMs);
  if ('currentAbove' in c) {
    const { channel, amps } = c.currentAbove;
    return withTimeout(pollCurrent(session, channel, (a) => a > amps, signal), timeoutMs, describeCondition(c));
  }
  if ('currentBelow' in c) {
    const { channel, amps } = c.currentBelow;
    return withTimeout(pollCurrent(session, channel, (a) => a < amps, signal), timeoutMs, describeCondition(c));
  }
  const { device, pattern } = c.console;
  return withTimeout(session.waitForConsole(device, new RegExp(pattern), signal), timeoutMs, describeCondition(c));
}

export interface StepHooks {
  /** Quiet links: Airlock sends nothing on them during phases asserting no_mavlink. */
  note(event: string, fields: Record<string, unknown>): void;
}

/** Runs one step to completion (or throws a StepError). */
export async function executeStep(session: RigSession, step: Step, signal: AbortSignal, hooks: StepHooks): Promise<void> {
  const what = describeStep(step);
  try {
    switch (step.kind) {
      case 'power': {
        const ch = need(session.power, step.channel, 'power channel');
        if (step.action === 'on') await withTimeout(ch.on(), step.timeoutMs, what);
        else if (step.action === 'off') await withTimeout(ch.off(), step.timeoutMs, what);
        else {
          await withTimeout(ch.off(), step.timeoutMs, what);
          await sleep(step.offTimeMs ?? 2000, undefined, { signal });
          await withTimeout(ch.on(), step.timeoutMs, what);
        }
        const reading = await ch.read();
        hooks.note('power_reply', { channel: step.channel, action: step.action, reading });
        return;
      }
      case 'press':
        await withTimeout(need(session.buttons, step.button, 'button').press(step.pattern), step.timeoutMs, what);
        return;
      case 'wait_for':
        await waitFor(session, step.condition, step.timeoutMs, signal);
        return;
      case 'dwell':
        await sleep(step.durationMs, undefined, { signal });
        return;
      case 'mavlink': {
        const reply = await need(session.links, step.link, 'link').command(step.command, step.params, {
          timeoutMs: step.timeoutMs,
          retries: step.retries,
        });
        hooks.note('mavlink_reply', { link: step.link, command: step.command, ...reply });
        // The autopilot answered but refused (e.g. arming while its pre-arm checks fail): the
        // scenario cannot go on as written. Not a rig fault: the device answered.
        if (reply.result !== 'ACCEPTED') {
          const tries = (reply as { attempts?: number }).attempts;
          throw new StepError('abort', `${what}: refused by the autopilot (${reply.result}${tries && tries > 1 ? ` after ${tries} attempts` : ''}${reply.statustext ? `: ${reply.statustext}` : ''})`);
        }
        return;
      }
      case 'mark':
        hooks.note('mark', { text: step.text });
        return;
      case 'prompt':
        await session.prompt(step.text, step.timeoutMs);
        return;
      case 'device':
        await withTimeout(session.deviceAction(step.device, step.action), step.timeoutMs, what);
        return;
      case 'lab':
        await withTimeout(session.labService(step.service, step.state === 'on'), step.timeoutMs, what);
        return;
    }
  } catch (error) {
    if (signal.aborted) throw new StepError('abort', `${what}: interrupted`);
    throw toStepFailure(error, what);
  }
}
