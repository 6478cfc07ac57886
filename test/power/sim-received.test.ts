/**
 * The supply simulators keep a bounded list of the commands they received: the virtual rig's
 * supplies are polled about ten times a second for hours, and a list of every command grew their
 * processes by about 40 bytes a command (docs/performance.md, soak). The tests that read
 * `received` see a session's commands as before; past MAX_RECEIVED the oldest go.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KoradSim, ResistorLoad, ScpiSim } from '../../src/sim/instruments/index.js';
import { MAX_RECEIVED } from '../../src/sim/instruments/sim-support.js';

/** A stream the simulator reads from (emit 'data') and writes its replies to. */
function stream(): EventEmitter & { write: (d: Buffer | string) => boolean; replies: string[] } {
  const replies: string[] = [];
  return Object.assign(new EventEmitter(), { replies, write: (d: Buffer | string) => replies.push(d.toString()) > 0 });
}

describe('a simulator keeps the last commands it received, not all', () => {
  it('SCPI: the last MAX_RECEIVED of a long session, the supply still answering', () => {
    const s = stream();
    const sim = new ScpiSim(s, { channels: { 1: new ResistorLoad(12) } });
    const n = MAX_RECEIVED + 2500;
    const lines = Array.from({ length: n }, (_, i) => (i % 2 ? 'MEAS:VOLT?' : `VOLT ${(i % 30) / 2}`));
    for (let i = 0; i < n; i += 500) s.emit('data', Buffer.from(lines.slice(i, i + 500).join('\n') + '\n'));
    expect(sim.received).toHaveLength(MAX_RECEIVED);
    expect(sim.received[0]).toBe(lines[2500]);
    expect(sim.received).toEqual(lines.slice(2500));
    // Every query was answered all along (the bound drops notes, not commands).
    expect(s.replies).toHaveLength(n / 2);
  });

  it('Korad: commands framed by silence, the last `keepReceived`', async () => {
    const s = stream();
    const sim = new KoradSim(s, { channels: { 1: new ResistorLoad(12) }, frameGapMs: 2, keepReceived: 3 });
    const cmds = ['VSET1:05.00', 'ISET1:1.000', 'OUT1', 'VOUT1?', 'IOUT1?'];
    for (const c of cmds) {
      s.emit('data', Buffer.from(c));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(sim.received).toEqual(['OUT1', 'VOUT1?', 'IOUT1?']);
    expect(s.replies).toHaveLength(2);
  });
});
