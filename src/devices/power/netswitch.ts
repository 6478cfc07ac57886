/**
 * A network power switch speaking the Shelly Gen2/Gen3 RPC over HTTP (Plus 1PM, Plus Plug S,
 * Pro 4PM...): `GET /rpc/Switch.Set?id=N&on=true|false` and `GET /rpc/Switch.GetStatus?id=N`
 * with `output`, `voltage` (V), `current` (A). Rig channel 1 is Shelly switch id 0.
 * The port is the device's base URL (http://192.168.33.1). Authentication is not supported.
 */
import type { RigPowerChannel } from '../../config/types.js';
import type { DriverContext } from './context.js';
import type { PowerReading } from './power-channel.js';
import { POWER_CODES, PowerConfigError, PowerFaultError } from './errors.js';
import { PowerChannelBase, badReply } from './base.js';

interface SwitchStatus {
  output: boolean;
  voltage?: number;
  current?: number;
}

export class NetSwitch extends PowerChannelBase {
  private readonly id: number;

  constructor(
    cfg: RigPowerChannel,
    private readonly ctx: DriverContext,
  ) {
    super(cfg, ctx.log);
    if (!cfg.port) throw new PowerConfigError(cfg.name, 'no URL given (port: http://ADDRESS)');
    this.id = cfg.channel - 1;
    if (cfg.volts !== undefined || cfg.currentLimit !== undefined) {
      this.log.warn('a power switch cannot program volts or a current limit; the values are ignored');
    }
  }

  private base(): string {
    const url = this.ctx.resolvePort(this.cfg.port as string).replace(/\/+$/, '');
    return /^https?:\/\//.test(url) ? url : `http://${url}`;
  }

  /** One RPC call; every way it can fail becomes a rig fault naming the method. */
  private async rpc(method: string, params: string): Promise<unknown> {
    const command = params ? `${method}?${params}` : method;
    const fault = (code: (typeof POWER_CODES)[keyof typeof POWER_CODES], msg: string, cause?: unknown) =>
      new PowerFaultError(code, this.name, command, msg, { cause });
    let res: Response;
    const signal = AbortSignal.timeout(this.cfg.timeoutMs);
    try {
      res = await fetch(`${this.base()}/rpc/${command}`, { signal });
    } catch (err) {
      if (signal.aborted) throw fault(POWER_CODES.noReply, `no reply within ${this.cfg.timeoutMs} ms`, err);
      throw fault(POWER_CODES.http, `cannot reach ${this.base()}: ${causeText(err)}`, err);
    }
    let body: string;
    try {
      body = await res.text();
    } catch (err) {
      if (signal.aborted) throw fault(POWER_CODES.partialReply, `reply body incomplete after ${this.cfg.timeoutMs} ms`, err);
      throw fault(POWER_CODES.partialReply, `reply body cut off: ${causeText(err)}`, err);
    }
    if (res.status !== 200) throw fault(POWER_CODES.http, `HTTP ${res.status}: ${body.slice(0, 200)}`);
    try {
      return JSON.parse(body);
    } catch {
      if (/^\s*\{/.test(body) && !/\}\s*$/.test(body)) throw fault(POWER_CODES.partialReply, `incomplete JSON ${JSON.stringify(body)}`);
      throw badReply(this.name, command, body.slice(0, 200), 'a JSON object');
    }
  }

  private async status(): Promise<SwitchStatus> {
    const command = `Switch.GetStatus?id=${this.id}`;
    const s = (await this.rpc('Switch.GetStatus', `id=${this.id}`)) as Record<string, unknown> | null;
    if (!s || typeof s !== 'object' || typeof s.output !== 'boolean') {
      throw badReply(this.name, command, JSON.stringify(s), 'a status with a boolean "output"');
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    return { output: s.output, voltage: num(s.voltage), current: num(s.current) };
  }

  protected async setOutput(on: boolean): Promise<void> {
    const reply = (await this.rpc('Switch.Set', `id=${this.id}&on=${on}`)) as Record<string, unknown> | null;
    if (!reply || typeof reply !== 'object' || typeof reply.was_on !== 'boolean') {
      throw badReply(this.name, `Switch.Set?id=${this.id}&on=${on}`, JSON.stringify(reply), '{"was_on": true|false}');
    }
    const s = await this.status();
    if (s.output !== on) throw this.mismatch(`Switch.GetStatus?id=${this.id}`, 'output', on, s.output);
  }

  async read(): Promise<PowerReading> {
    const s = await this.status();
    return { on: s.output, volts: s.voltage ?? null, amps: s.current ?? null };
  }

  /** `Shelly.GetDeviceInfo`: model, id and firmware version, for preflight. */
  async identify(): Promise<string> {
    const info = (await this.rpc('Shelly.GetDeviceInfo', '')) as Record<string, unknown> | null;
    if (!info || typeof info !== 'object' || typeof info.id !== 'string') {
      throw badReply(this.name, 'Shelly.GetDeviceInfo', JSON.stringify(info), 'device info with an "id"');
    }
    return [info.model, info.id, info.ver].filter((x) => typeof x === 'string').join(' ');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function causeText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return [e?.message, e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ');
}
