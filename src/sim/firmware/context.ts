/**
 * What a firmware profile runs with: its environment (from FirmwareHost) and small helpers that
 * make real traffic (UDP, DNS, TLS, HTTP, mDNS). Every timer and socket goes through the
 * context, so `stopAll()` silences the device at once.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

export interface FirmwareContext {
  device: string;
  address?: string;
  address6?: string;
  sinkhole?: string;
  sinkhole6?: string;
  airPeer?: string;
  labHosts: Record<string, string>;
  params: Record<string, string>;
  log(text: string): void;
  every(ms: number, fn: () => void, opts?: { now?: boolean }): () => void;
  after(ms: number, fn: () => void): void;
  /** Adds a cleanup run by stopAll (sockets, the vehicle). */
  onStop(fn: () => void | Promise<void>): void;
  stopAll(): Promise<void>;
  udp(dst: string, port: number, payload: Buffer, opts?: { srcPort?: number }): void;
  lookup(name: string, type?: 'A' | 'AAAA'): Promise<string[]>;
  https(dst: string, serverName: string, payload: string): void;
  /** As https(), resolving when the payload was sent and the connection closed (or failed; 3 s at most). */
  httpsAndWait(dst: string, serverName: string, payload: string): Promise<void>;
  httpPost(dst: string, host: string, path: string, body: string): void;
  mdnsAnnounce(): void;
  /** Binds a UDP port that swallows what arrives (so peers get no ICMP unreachable). */
  sink(port: number): void;
}

/** `20s`, `500ms`, `2m`, or plain milliseconds. */
export function parseDuration(v: string | undefined, fallbackMs: number): number {
  if (!v) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(v.trim());
  if (!m) return fallbackMs;
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

function mdnsResponse(name: string, address: string): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'ascii')]);
  const header = Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  const rr = Buffer.alloc(10);
  rr.writeUInt16BE(1, 0); // A
  rr.writeUInt16BE(0x8001, 2); // IN, cache flush
  rr.writeUInt32BE(120, 4);
  rr.writeUInt16BE(4, 8);
  return Buffer.concat([header, ...labels, Buffer.from([0]), rr, Buffer.from(address.split('.').map(Number))]);
}

export function createContext(env: NodeJS.ProcessEnv = process.env): FirmwareContext {
  const device = env.AIRLOCK_DEVICE ?? 'device';
  const stops: (() => void | Promise<void>)[] = [];
  const sockets = new Map<string, dgram.Socket>();
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('AIRLOCK_PARAM_') && v !== undefined) params[k.slice(14).toLowerCase()] = v;
  const labHosts: Record<string, string> = {};
  for (const kv of (env.AIRLOCK_LAB_HOSTS ?? '').split(' ').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (k && v) labHosts[k] = v;
  }
  const log = (text: string) => process.stdout.write(`${new Date().toISOString()} ${device}[${process.pid}]: ${text}\n`);
  const socketFor = (family: 4 | 6, srcPort = 0): dgram.Socket => {
    const key = `${family}:${srcPort}`;
    let s = sockets.get(key);
    if (!s) {
      s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      s.on('error', (e) => log(`udp error: ${e.message}`));
      if (srcPort) s.bind(srcPort);
      sockets.set(key, s);
    }
    return s;
  };
  const ctx: FirmwareContext = {
    device,
    address: env.AIRLOCK_ADDRESS,
    address6: env.AIRLOCK_ADDRESS6,
    sinkhole: env.AIRLOCK_SINKHOLE,
    sinkhole6: env.AIRLOCK_SINKHOLE6,
    airPeer: env.AIRLOCK_AIR_PEER,
    labHosts,
    params,
    log,
    every(ms, fn, opts) {
      if (opts?.now) fn();
      const t = setInterval(fn, ms);
      const stop = () => clearInterval(t);
      stops.push(stop);
      return stop;
    },
    after(ms, fn) {
      const t = setTimeout(fn, ms);
      stops.push(() => clearTimeout(t));
    },
    onStop(fn) {
      stops.push(fn);
    },
    async stopAll() {
      for (const s of stops.splice(0)) await s();
      for (const s of sockets.values()) s.close();
      sockets.clear();
    },
    udp(dst, port, payload, opts) {
      socketFor(net.isIPv6(dst) ? 6 : 4, opts?.srcPort).send(payload, port, dst);
    },
    async lookup(name, type = 'A') {
      const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
      if (ctx.sinkhole) r.setServers([ctx.sinkhole]);
      try {
        return type === 'A' ? await r.resolve4(name) : await r.resolve6(name);
      } catch (e) {
        log(`lookup ${name}: ${(e as Error).message}`);
        return [];
      }
    },
    https(dst, serverName, payload) {
      const s = tls.connect({ host: dst, port: 443, servername: serverName, rejectUnauthorized: false, timeout: 3000 });
      s.on('secureConnect', () => s.end(payload));
      s.on('error', () => undefined);
      s.on('timeout', () => s.destroy());
      stops.push(() => void s.destroy());
    },
    httpsAndWait(dst, serverName, payload) {
      return new Promise<void>((resolve) => {
        const s = tls.connect({ host: dst, port: 443, servername: serverName, rejectUnauthorized: false, timeout: 3000 });
        const done = () => {
          s.destroy();
          resolve();
        };
        s.on('secureConnect', () => s.end(payload, () => setTimeout(done, 200)));
        s.on('error', done);
        s.on('timeout', done);
        s.on('close', done);
      });
    },
    httpPost(dst, host, path, body) {
      const s = net.connect({ host: dst, port: 80, timeout: 3000 });
      s.on('connect', () =>
        s.end(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`),
      );
      s.on('error', () => undefined);
      s.on('timeout', () => s.destroy());
      stops.push(() => void s.destroy());
    },
    mdnsAnnounce() {
      if (!ctx.address) return;
      const s = socketFor(4, 0);
      try {
        s.setMulticastTTL(255);
        s.setMulticastInterface(ctx.address);
      } catch {
        /* not bound yet: the first send binds it */
      }
      s.send(mdnsResponse(`${device}.local`, ctx.address), 5353, '224.0.0.251');
    },
    sink(port) {
      const s = dgram.createSocket('udp4');
      s.on('error', () => undefined);
      s.on('message', () => undefined);
      s.bind(port);
      stops.push(() => void s.close());
    },
  };
  return ctx;
}

/** Reads new lines of the actions file on each SIGUSR1 and hands them to `fn`. */
export function watchActions(file: string | undefined, fn: (action: string) => void): void {
  if (!file) return;
  let offset = 0;
  try {
    offset = fs.statSync(file).size; // actions sent before this boot are not ours
  } catch {
    /* no actions file yet: no action was sent before this boot, so reading starts at 0 */
  }
  process.on('SIGUSR1', () => {
    try {
      const buf = fs.readFileSync(file);
      const text = buf.subarray(offset).toString('utf8');
      offset = buf.length;
      for (const line of text.split('\n')) if (line.trim()) fn(line.trim());
    } catch {
      /* the actions file is not there (yet): a later SIGUSR1 reads what it then holds */
    }
  });
}
