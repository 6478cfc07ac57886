/**
 * A Korad/Tenma supply on a serial stream, byte for byte: no terminators, a command is what
 * arrived before a silence (so unpaced commands run together and are ignored, as on the real
 * unit), replies without terminators (`12.00`, `1.000`, one STATUS byte).
 */
import { GARBAGE, supplyOutputs, type SimFault, type SimStream, type SimSupplyOutput, type SupplySimOptions } from './sim-support.js';

export interface KoradSimOptions extends SupplySimOptions {
  /** Silence that ends a command (ms). */
  frameGapMs?: number;
}

export class KoradSim {
  fault: SimFault;
  readonly outputs: Map<number, SimSupplyOutput>;
  /** Every command as framed by silence, for byte-exact and pacing checks. */
  readonly received: string[] = [];
  private buf = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly gap: number;
  private readonly idn: string;

  constructor(
    private readonly stream: SimStream,
    opts: KoradSimOptions,
  ) {
    this.outputs = supplyOutputs(opts);
    this.fault = opts.fault ?? null;
    this.gap = opts.frameGapMs ?? 15;
    this.idn = opts.idn ?? 'KORAD KA3005P V5.8 SN:AIRLOCK-SIM';
    stream.on('data', (chunk) => {
      this.buf += chunk.toString('latin1');
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.frame(), this.gap);
    });
  }

  private frame(): void {
    const cmd = this.buf;
    this.buf = '';
    this.timer = null;
    this.received.push(cmd);
    this.command(cmd);
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

function fmtV(v: number): string {
  return v.toFixed(2).padStart(5, '0');
}
