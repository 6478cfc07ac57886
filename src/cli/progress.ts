/**
 * What the technician sees during a run: the phase and step now running, elapsed time and the
 * step's time limit, live counters, then a summary. On a terminal one status line is redrawn
 * in place (fits 80 columns); otherwise one line per event; with --json, one JSON object per
 * event on stdout (the machine-readable stream).
 */
import pc from 'picocolors';
import { eventLine, type RunProgress } from '../orchestrator/index.js';
import type { CommandIO } from './io.js';


const fmt = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/**
 * A capture none of whose canaries the live analysis has decided for this long is said to be
 * unchecked. A canary is decided 3 s after its send once its capture is read that far
 * (CANARY_SETTLE_MS in src/verdict/canary-health.ts) and captures flush every 500 ms, so a capture
 * read normally has its first canaries decided within about 5 s; the margin keeps a loaded host's
 * start from being told as a blind capture.
 */
export const NONE_CHECKED_MS = 15_000;

const colour = (verdict: string) =>
  verdict === 'PASS' ? pc.green(verdict) : verdict === 'FAIL' ? pc.red(verdict) : verdict === 'NOT_RUN' ? pc.dim(verdict) : pc.yellow(verdict);

export function progressPrinter(io: CommandIO, json: boolean): (e: RunProgress) => void {
  if (json) return (e) => io.out(eventLine(e));
  const tty = io.tty && process.stderr.isTTY;
  let phase = '';
  let step = '';
  let stepStart = Date.now();
  let stepLimit = 0;
  let remaining = 0;
  let counters = '';
  let missingTold = 0;
  let missingToldAt = 0;
  const silentTold = new Set<string>();
  // Per capture with no canary decided yet: when that was first seen; those said on their own line.
  const noneSince = new Map<string, number>();
  const noneTold = new Set<string>();
  let uncheckedTold = 0;
  let uncheckedToldAt = 0;
  const t0 = Date.now();
  const redraw = () => {
    if (!tty) return;
    const left = Math.max(0, remaining - (Date.now() - stepStart));
    const line = `${fmt(Date.now() - t0)} (>=${fmt(left)} left) ${phase} > ${step} ${fmt(Date.now() - stepStart)}/${fmt(stepLimit)} | ${counters}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, 79)}`);
  };
  const say = (text: string) => {
    if (tty) process.stderr.write('\r\x1b[2K');
    io.err(text);
    redraw();
  };
  return (e) => {
    switch (e.type) {
      case 'start':
        say(`${pc.bold('airlock')} ${e.scenario} on rig ${e.rig}: ${e.phases.join(' > ')}`);
        say(`run directory: ${e.runDir} (run id ${e.runId})`);
        break;
      case 'phase':
        phase = `[${e.index + 1}/${e.total}] ${e.name}`;
        say(pc.bold(`phase ${phase}`));
        break;
      case 'step':
        step = e.text;
        stepStart = Date.now();
        stepLimit = e.timeoutMs;
        remaining = e.remainingDwellMs;
        if (!tty) io.err(`  ${e.phase}: ${e.text}`);
        redraw();
        break;
      case 'step_end':
        if (!e.ok) say(pc.red(`  step failed: ${step}`));
        break;
      case 'counters': {
        const k = e.canaries;
        const known = k?.seen !== undefined && k.missing !== undefined;
        // A capture whose canaries the live analysis never decided (it cannot read the capture, or is
        // far behind on it): unchecked is not good, so it is said, once, and kept on the status line;
        // said again once its canaries are checked after all.
        const now = Date.now();
        const said: string[] = [];
        for (const [cap, c] of Object.entries((known && k.byCapture) || {})) {
          if (c.seen + c.missing > 0) {
            noneSince.delete(cap);
            if (noneTold.delete(cap)) said.push(`canaries: ${cap} now checked (${c.seen} seen${c.missing ? `, ${c.missing} missing` : ''})`);
            continue;
          }
          const since = noneSince.get(cap) ?? now;
          noneSince.set(cap, since);
          if (!noneTold.has(cap) && now - since >= NONE_CHECKED_MS) {
            noneTold.add(cap);
            said.push(
              pc.yellow(
                `canaries: none checked in ${cap} for ${Math.round((now - since) / 1000)} s (the live analysis cannot read it, or is behind on it): its canaries are unproven; the post-run analysis decides proof of sight`,
              ),
            );
          }
        }
        const health = known
          ? [
              `canaries ${k.seen} seen${k.missing ? ` ${k.missing} MISSING` : ''}${k.unchecked ? ` ${k.unchecked} UNCHECKED` : ''}` +
                (noneTold.size ? ` NONE CHECKED in ${[...noneTold].sort().join(',')}` : ''),
            ]
          : [];
        counters = [
          ...Object.entries(e.amps).flatMap(([name, a]) => (a === null ? [] : [`${name} ${a.toFixed(2)}A`])),
          ...health,
          ...Object.entries(e.captures).map(([name, v]) => `${name}:${v}`),
        ].join(' ');
        // An injection point that stopped sending: said once per injection point.
        for (const host of k?.silent ?? []) {
          if (silentTold.has(host)) continue;
          silentTold.add(host);
          say(pc.yellow(`canaries: injection point ${host} went without sending for longer than the post-run check allows; the captures it crosses are unproven then`));
        }
        // Canaries missing from a capture they must cross: said once, then when more are missing (at most once a minute).
        if (k?.missing && k.missing > missingTold && (missingTold === 0 || Date.now() - missingToldAt >= 60_000)) {
          missingTold = k.missing;
          missingToldAt = Date.now();
          const where = Object.entries(k.byCapture ?? {}).flatMap(([cap, c]) => (c.missing ? [`${cap} ${c.missing}`] : []));
          say(pc.yellow(`canaries missing: ${k.missing} of ${k.seen! + k.missing} not seen in every capture they cross${where.length ? ` (${where.join(', ')})` : ''}; the post-run analysis decides proof of sight`));
        }
        for (const text of said) say(text);
        // Canaries given up undecided (a capture not read for minutes): said like missing ones.
        if (k?.unchecked && k.unchecked > uncheckedTold && (uncheckedTold === 0 || now - uncheckedToldAt >= 60_000)) {
          uncheckedTold = k.unchecked;
          uncheckedToldAt = now;
          say(pc.yellow(`canaries not checked: ${k.unchecked} given up undecided (the live analysis did not read their captures in time); the post-run analysis decides proof of sight`));
        }
        redraw();
        break;
      }
      case 'safing':
        say(`${pc.yellow('safing')}: switching the power off and stopping the captures (${e.reason})`);
        break;
      case 'safed':
        // Honest: "every channel off" only when every channel answered its off command.
        if (e.channelsFailed.length === 0) say(`${pc.green('safe')}: every channel off${e.channelsOff.length ? ` (${e.channelsOff.join(', ')})` : ''}, captures flushed`);
        else {
          if (e.channelsOff.length) say(`safing: switched off: ${e.channelsOff.join(', ')}`);
          for (const f of e.channelsFailed) say(pc.red(`safing: channel ${f.channel} NOT confirmed off: ${f.error}`));
          say(pc.red(`check ${e.channelsFailed.map((f) => f.channel).join(', ')} by hand: the rig may still be powered`));
        }
        break;
      case 'recovered':
        say(
          `${pc.yellow('recovered')} run ${e.runId} whose Airlock process was killed${e.runDir ? ` (${e.runDir})` : ''}: ` +
            (e.channelsFailed.length === 0 ? `every channel off` : pc.red(`channel(s) ${e.channelsFailed.map((f) => f.channel).join(', ')} NOT confirmed off`)),
        );
        break;
      case 'finding':
        say(pc.red(`finding (live) in ${e.window}: ${e.text}`));
        break;
      case 'live':
        if (e.state !== 'started' || e.detail) say(`live analysis ${e.state}${e.detail ? `: ${e.detail}` : ''}`);
        break;
      case 'rotated':
        say(`capture ${e.capture} continues in ${e.file} (part ${e.index + 1})`);
        break;
      case 'state':
        if (e.state === 'analysing') say('analysing captures...');
        break;
      case 'done':
        if (tty) process.stderr.write('\r\x1b[2K');
        for (const p of e.phases) {
          io.err(`  ${p.name.padEnd(24)} ${colour(p.verdict)}`);
          for (const f of p.findings ?? []) io.err(`      ${f}`);
          for (const r of p.reasons ?? []) io.err(`      undecided: ${r}`);
        }
        io.err(`verdict: ${colour(e.verdict)}${e.reason ? ` (${e.reason})` : ''} — exit ${e.exitCode}`);
        break;
    }
  };
}
