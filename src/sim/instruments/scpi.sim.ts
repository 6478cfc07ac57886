/**
 * A SCPI bench supply (N outputs) on a serial stream, byte for byte: `\n`-terminated commands,
 * short and long header forms, no reply to set commands, numeric replies to queries.
 */
import { GARBAGE, noteReceived, supplyOutputs, type SimFault, type SimStream, type SimSupplyOutput, type SupplySimOptions } from './sim-support.js';

export interface ScpiSimOptions extends SupplySimOptions {
  /** Output range: settings beyond it are refused (error -222), as on a real supply. */
  maxVolts?: number;
  maxAmps?: number;
}

export class ScpiSim {
  fault: SimFault;
  readonly outputs: Map<number, SimSupplyOutput>;
  /** The command lines received (the last MAX_RECEIVED), for byte-exact checks. */
  readonly received: string[] = [];
  private selected = 1;
  private readonly idn: string;
  private pending = '';
  private readonly maxVolts: number;
  private readonly maxAmps: number;
  private readonly keepReceived: number | undefined;

  constructor(
    private readonly stream: SimStream,
    opts: ScpiSimOptions,
  ) {
    this.outputs = supplyOutputs(opts);
    this.idn = opts.idn ?? 'Airlock,SIM-SCPI-PSU,0001,1.0';
    this.fault = opts.fault ?? null;
    this.maxVolts = opts.maxVolts ?? 30;
    this.maxAmps = opts.maxAmps ?? 5;
    this.keepReceived = opts.keepReceived;
    stream.on('data', (chunk) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.pending += chunk.toString('latin1');
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      if (line.trim()) this.command(line.trim());
    }
  }

  private get out(): SimSupplyOutput {
    return this.outputs.get(this.selected) as SimSupplyOutput;
  }

  private command(line: string): void {
    noteReceived(this.received, line, this.keepReceived);
    const [head, arg] = [line.split(/\s+/)[0].toUpperCase(), line.split(/\s+/).slice(1).join(' ')];
    const is = (re: RegExp) => re.test(head);
    if (head === '*IDN?') return this.reply(this.idn);
    if (is(/^:?INST(RUMENT)?(:NSEL(ECT)?)?$/)) {
      const n = Number(arg);
      if (this.outputs.has(n)) this.selected = n;
      return;
    }
    if (is(/^:?INST(RUMENT)?(:NSEL(ECT)?)?\?$/)) return this.reply(String(this.selected));
    if (is(/^(:?SOUR(CE)?:)?VOLT(AGE)?(:LEV(EL)?)?(:IMM(EDIATE)?)?(:AMPL(ITUDE)?)?$/)) {
      const v = Number(arg);
      if (Number.isFinite(v) && v >= 0 && v <= this.maxVolts) this.out.volts = v;
      return;
    }
    if (is(/^(:?SOUR(CE)?:)?CURR(ENT)?(:LEV(EL)?)?(:IMM(EDIATE)?)?(:AMPL(ITUDE)?)?$/)) {
      const a = Number(arg);
      if (Number.isFinite(a) && a >= 0 && a <= this.maxAmps) this.out.amps = a;
      return;
    }
    if (is(/^(:?SOUR(CE)?:)?VOLT(AGE)?\?$/)) return this.reply(this.out.volts.toFixed(3));
    if (is(/^(:?SOUR(CE)?:)?CURR(ENT)?\?$/)) return this.reply(this.out.amps.toFixed(3));
    if (is(/^:?OUTP(UT)?(:STAT(E)?)?$/)) {
      const a = arg.toUpperCase();
      if (a === 'ON' || a === '1') this.out.setOutput(true);
      else if (a === 'OFF' || a === '0') this.out.setOutput(false);
      return;
    }
    if (is(/^:?OUTP(UT)?(:STAT(E)?)?\?$/)) return this.reply(this.out.on ? '1' : '0');
    if (is(/^:?MEAS(URE)?(:SCAL(AR)?)?:VOLT(AGE)?(:DC)?\?$/)) return this.reply(this.out.measure().volts.toFixed(3));
    if (is(/^:?MEAS(URE)?(:SCAL(AR)?)?:CURR(ENT)?(:DC)?\?$/)) return this.reply(this.out.measure().amps.toFixed(4));
    // Unknown headers: a real instrument queues error -113 and stays silent.
  }

  private reply(text: string): void {
    switch (this.fault) {
      case 'silence':
        return;
      case 'garbage':
        this.stream.write(Buffer.concat([GARBAGE, Buffer.from('\n')]));
        return;
      case 'half':
        this.stream.write(text.slice(0, Math.ceil(text.length / 2)));
        return;
      default:
        this.stream.write(text + '\n');
    }
  }
}
