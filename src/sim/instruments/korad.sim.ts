/**
 * A Korad/Tenma supply on a serial stream, byte for byte: no terminators, a command is what
 * arrived before a silence (so unpaced commands run together and are ignored, as on the real
 * unit), replies without terminators (`12.00`, `1.000`, one STATUS byte).
 *
 * The silence is judged by when this process reads the bytes, which on a real wire is when they
 * arrive. A PTY keeps no timing: when this process was not running (a loaded host stalls it for
 * tens of milliseconds), commands written 50 ms apart are read as one chunk, and judging that as
 * "unpaced" would fault a correct driver for the host's load: the simulator would be stricter
 * than the unit. So a tick every STALL_TICK_MS shows whether the process ran; bytes read after a
 * stall longer than STALL_MS cannot show their spacing, and a chunk that is then exactly a run of
 * valid commands is taken command by command. Without a stall, run-together commands are ignored
 * as the unit ignores them (test/power/shared-port.test.ts).
 */
import { GARBAGE, noteReceived, supplyOutputs, type SimFault, type SimStream, type SimSupplyOutput, type SupplySimOptions } from './sim-support.js';

export interface KoradSimOptions extends SupplySimOptions {
  /** Silence that ends a command (ms). */
  frameGapMs?: number;
}

/** How often the simulator notes that it runs, and how late a note shows it did not. */
const STALL_TICK_MS = 10;
const STALL_MS = 30;

/** One Korad command at the start of `s` (the commands `command()` accepts), or 0 when none. */
const COMMAND = /^(\*IDN\?|STATUS\?|VSET\d:\d{1,2}(?:\.\d{1,2})?(?=$|[A-Z*])|ISET\d:\d(?:\.\d{1,3})?(?=$|[A-Z*])|[VI]SET\d\?|[VI]OUT\d\?|OUT[01])/;

export class KoradSim {
  fault: SimFault;
  readonly outputs: Map<number, SimSupplyOutput>;
  /** The commands as framed by silence (the last MAX_RECEIVED), for byte-exact and pacing checks. */
  readonly received: string[] = [];
  private buf = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly gap: number;
  private readonly idn: string;
  private readonly keepReceived: number | undefined;
  private lastTick = Date.now();
  /** When a tick last came late (the end of a stall of this process). */
  private lastStallEnd = 0;
  /** Whether bytes of the frame being gathered were read after a stall (their spacing unknown). */
  private stalled = false;

  constructor(
    private readonly stream: SimStream,
    opts: KoradSimOptions,
  ) {
    this.outputs = supplyOutputs(opts);
    this.fault = opts.fault ?? null;
    this.gap = opts.frameGapMs ?? 15;
    this.keepReceived = opts.keepReceived;
    this.idn = opts.idn ?? 'KORAD KA3005P V5.8 SN:AIRLOCK-SIM';
    // After a stall the loop runs its timers before it reads, so the tick that ends a stall is
    // seen late by the tick itself, and the bytes read just after it belong to the stall.
    const tick = setInterval(() => {
      const now = Date.now();
      if (now - this.lastTick > STALL_MS) this.lastStallEnd = now;
      this.lastTick = now;
    }, STALL_TICK_MS);
    tick.unref();
    // A serial port or PTY says when it closes; the tick ends with it.
    if (typeof (stream as Partial<NodeJS.EventEmitter>).once === 'function') (stream as unknown as NodeJS.EventEmitter).once('close', () => clearInterval(tick));
    stream.on('data', (chunk) => {
      const now = Date.now();
      if (now - this.lastTick > STALL_MS || now - this.lastStallEnd <= STALL_MS) this.stalled = true;
      this.buf += chunk.toString('latin1');
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.frame(), this.gap);
    });
  }

  private frame(): void {
    const cmd = this.buf;
    const stalled = this.stalled;
    this.buf = '';
    this.stalled = false;
    this.timer = null;
    const parts = stalled ? splitCommands(cmd) : undefined;
    for (const c of parts ?? [cmd]) {
      noteReceived(this.received, c, this.keepReceived);
      this.command(c);
    }
  }

  private command(cmd: string): void {
    let m: RegExpMatchArray | null;
    const out = (n: string) => this.outputs.get(Number(n));
    if (cmd === '*IDN?') return this.reply(this.idn);
    if (cmd === 'STATUS?') return this.replyStatus();
    if ((m = cmd.match(/^VSET(\d):(\d{1,2}(\.\d{1,2})?)$/)) && out(m[1]) && Number(m[2]) <= 31) {
      out(m[1])!.volts = Number(m[2]);
      return;
    }
    if ((m = cmd.match(/^ISET(\d):(\d(\.\d{1,3})?)$/)) && out(m[1]) && Number(m[2]) <= 5.1) {
      out(m[1])!.amps = Number(m[2]);
      return;
    }
    if ((m = cmd.match(/^VSET(\d)\?$/)) && out(m[1])) return this.reply(fmtV(out(m[1])!.volts));
    if ((m = cmd.match(/^ISET(\d)\?$/)) && out(m[1])) return this.reply(out(m[1])!.amps.toFixed(3));
    if ((m = cmd.match(/^VOUT(\d)\?$/)) && out(m[1])) return this.reply(fmtV(out(m[1])!.measure().volts));
    if ((m = cmd.match(/^IOUT(\d)\?$/)) && out(m[1])) return this.reply(out(m[1])!.measure().amps.toFixed(3));
    if ((m = cmd.match(/^OUT([01])$/))) {
      for (const o of this.outputs.values()) o.setOutput(m[1] === '1');
      return;
    }
    // Anything else (including commands run together by missing pacing) is ignored.
  }

  private replyStatus(): void {
    const o1 = this.outputs.get(1) as SimSupplyOutput;
    const m = o1.measure();
    const cv = o1.on && m.amps < o1.amps ? 0x01 : 0x00;
    const byte = Buffer.from([(o1.on ? 0x40 : 0) | cv]);
    if (this.fault === 'half') return; // a one-byte reply has no half: it stays silent
    this.send(byte);
  }

  private reply(text: string): void {
    if (this.fault === 'half') {
      this.stream.write(text.slice(0, 2));
      return;
    }
    this.send(Buffer.from(text, 'latin1'));
  }

  private send(data: Buffer): void {
    if (this.fault === 'silence') return;
    this.stream.write(this.fault === 'garbage' ? GARBAGE : data);
  }
}

/** `s` as a run of valid commands, or undefined when it is not exactly one (then it stays one frame). */
export function splitCommands(s: string): string[] | undefined {
  const out: string[] = [];
  let rest = s;
  while (rest.length > 0) {
    const m = COMMAND.exec(rest);
    if (!m) return undefined;
    out.push(m[1]!);
    rest = rest.slice(m[1]!.length);
  }
  return out.length > 1 ? out : undefined;
}

function fmtV(v: number): string {
  return v.toFixed(2).padStart(5, '0');
}
