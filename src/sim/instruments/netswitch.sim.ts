/**
 * A Shelly Gen2 switch (RPC over HTTP) on a loopback port: Switch.Set, Switch.GetStatus and
 * Shelly.GetDeviceInfo as GET requests, replies shaped as the Gen2 API documents them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoad, noteReceived, type SimFault, type SimWiring } from './sim-support.js';
import type { SimLoad } from './sim-load.js';

export interface NetSwitchSimOptions {
  /** Rig channel number (Shelly id + 1) -> what it feeds. */
  channels: Record<number, SimWiring>;
  /** Number of switches (default: the highest wired channel, at least 1). */
  switches?: number;
  /** Line voltage the switch measures (V). */
  volts?: number;
  fault?: SimFault;
}

export class NetSwitchSim {
  fault: SimFault;
  readonly outputs = new Map<number, boolean>();
  /** The request paths received (the last MAX_RECEIVED). */
  readonly received: string[] = [];
  private readonly server: http.Server;
  private readonly volts: number;
  private readonly held = new Set<http.ServerResponse>();

  constructor(private readonly opts: NetSwitchSimOptions) {
    this.fault = opts.fault ?? null;
    this.volts = opts.volts ?? 230;
    const count = opts.switches ?? Math.max(1, ...Object.keys(opts.channels).map(Number));
    for (let id = 0; id < count; id++) this.outputs.set(id, false);
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Listen on 127.0.0.1:`port` (0 = any free port); resolves the port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.held.clear();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private load(id: number): SimLoad | undefined {
    const w = this.opts.channels[id + 1];
    return isLoad(w) ? w : undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    noteReceived(this.received, url.pathname + url.search);
    const id = Number(url.searchParams.get('id') ?? '0');
    if (url.pathname === '/rpc/Shelly.GetDeviceInfo') {
      return this.reply(res, 200, { name: null, id: 'shellyplus1pm-airlocksim', model: 'SNSW-001P16EU', gen: 2, ver: '1.0.0', app: 'Plus1PM' });
    }
    if (!this.outputs.has(id)) return this.reply(res, 500, { code: -105, message: `Argument 'id', value ${id} not found!` });
    if (url.pathname === '/rpc/Switch.Set') {
      const on = url.searchParams.get('on');
      if (on !== 'true' && on !== 'false') return this.reply(res, 500, { code: -103, message: "Missing required argument 'on'!" });
      const was = this.outputs.get(id) as boolean;
      const now = on === 'true';
      if (now !== was) {
        this.outputs.set(id, now);
        this.load(id)?.setPowered(now);
      }
      return this.reply(res, 200, { was_on: was });
    }
    if (url.pathname === '/rpc/Switch.GetStatus') {
      const output = this.outputs.get(id) as boolean;
      const current = output ? Math.max(0, this.load(id)?.amps(this.volts) ?? 0) : 0;
      return this.reply(res, 200, {
        id,
        source: 'HTTP_in',
        output,
        apower: Math.round(current * this.volts * 10) / 10,
        voltage: this.volts,
        freq: 50,
        current: Math.round(current * 1000) / 1000,
        aenergy: { total: 0, by_minute: [0, 0, 0], minute_ts: Math.floor(Date.now() / 1000) },
        temperature: { tC: 41.2, tF: 106.2 },
      });
    }
    return this.reply(res, 404, { code: 404, message: 'No handler for ' + url.pathname });
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    switch (this.fault) {
      case 'silence':
        this.held.add(res);
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\u0000\u00ff?#</html>');
        return;
      case 'half': {
        const half = Buffer.from(text.slice(0, Math.floor(text.length / 2)));
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.write(half, () => res.destroy());
        return;
      }
      default:
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    }
  }
}
