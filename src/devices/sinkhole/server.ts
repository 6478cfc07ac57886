/**
 * The sinkhole: the lab's gateway that answers and logs and never forwards. The same server runs
 * in the virtual rig's sinkhole namespace (src/sim/sinkhole/main.ts) and on a real lab gateway
 * (`airlock sinkhole`, src/cli/commands/sinkhole.ts). nftables redirects every TCP/UDP packet
 * routed to the box (any destination address, any port) to these listeners (nftRuleset below).
 *
 * It answers DNS with its own address, accepts any TCP connection and UDP datagram, and appends
 * one JSON line per connection, datagram and DNS question to its log, with the destination the
 * client originally addressed (src/devices/sinkhole/conntrack.ts). It also writes liveness lines
 * (start, a heartbeat every heartbeatMs, stop), each saying whether the host forwarded then, so a
 * reader can tell when it was not running or not a sinkhole
 * (src/analysis/sinkhole-log.ts). The log is only appended to, never rotated or truncated by the
 * sinkhole: a rotation during a run could hide records (docs/technician/proof-of-sight.md).
 *
 * Lab services (virtual rig `lab` steps): `uplink` answers like the Internet (HTTP 200; complete
 * TLS handshakes, then HTTP 200), `update-server` serves a firmware update offer.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { buildAnswer, parseQuestion, QTYPE_NAMES } from './dns.js';
import { normalizeAddress, originalDst } from './conntrack.js';
import { forwardingOn } from './forwarding.js';
import { httpHost, isHttp, isTlsHello, tlsServerName } from './sniff.js';
import type { SinkholeLiveness, SinkholeRecord } from '../../analysis/sinkhole-log.js';
import { CANARY_DNS_SUFFIX, CANARY_PORT } from '../../analysis/canary.js';

/** Canary records may number this many times `maxRecords` (they come at a fixed rate; see record()). */
export const CANARY_RECORD_FACTOR = 50;

export type SinkholeService = 'uplink' | 'update-server';

export interface SinkholeOptions {
  /** The log file (appended to; made if absent). */
  logFile: string;
  /** The sinkhole's own address: the DNS answer to A questions. */
  address: string;
  /** Its IPv6 address: the answer to AAAA questions (none without it). */
  address6?: string;
  /** Ports of the catch-all listeners nftables redirects to. */
  tcpPort: number;
  udpPort: number;
  /** DNS port (53; tests may move it). */
  dnsPort?: number;
  /** Where the uplink service keeps its TLS key and certificate (default: beside the log). */
  stateDir?: string;
  /** Records after which only a `truncated` line is written (default: no limit); canaries have CANARY_RECORD_FACTOR times as many. */
  maxRecords?: number;
  /** Interval of the heartbeat lines (default 5 s). */
  heartbeatMs?: number;
  /** How long written lines may wait for fsync (default 200 ms). */
  syncMs?: number;
  /** The log could not be written (a full disk): the sinkhole keeps answering. */
  onWriteError?: (error: NodeJS.ErrnoException) => void;
  /** The forwarding sysctls that are on, read for every liveness line (default: this namespace's, forwardingOn). */
  forwarding?: () => string[];
  /** A liveness line found the host forwarding where the one before did not (or at start). */
  onForwarding?: (on: string[]) => void;
}

export const DEFAULT_HEARTBEAT_MS = 5000;
const UPDATE_NAME = 'update.lab';
const UPDATE_OFFER = JSON.stringify({ version: '9.9.9', url: `http://${UPDATE_NAME}/firmware-9.9.9.bin`, note: 'offered by the Airlock lab update server' });

function hex(b: Buffer): string {
  return b.subarray(0, 64).toString('hex');
}

/**
 * The nftables ruleset that sends every TCP and UDP packet arriving on `iface` (or on any
 * interface when none is named), whatever its destination address, to the sinkhole's listeners.
 * Multicast and broadcast stay what they are. A table of its own, so removing it touches nothing else.
 */
export function nftRuleset(opts: { table: string; iface?: string; tcpPort: number; udpPort: number; dnsPort?: number }): string {
  const on = opts.iface ? `iifname ${JSON.stringify(opts.iface)} ` : '';
  const dns = opts.dnsPort ?? 53;
  return `table inet ${opts.table} {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ${on}ip daddr 224.0.0.0/4 return
    ${on}ip daddr 255.255.255.255 return
    ${on}ip6 daddr ff00::/8 return
    ${on}meta l4proto { tcp, udp } th dport 53 redirect to :${dns}
    ${on}meta l4proto tcp redirect to :${opts.tcpPort}
    ${on}meta l4proto udp redirect to :${opts.udpPort}
  }
}
`;
}

export class SinkholeServer {
  /** Random id of this process's run of the sinkhole (liveness lines carry it). */
  readonly instance = randomBytes(8).toString('hex');
  readonly heartbeatMs: number;
  private readonly services: Record<SinkholeService, boolean> = { uplink: false, 'update-server': false };
  private readonly fd: number;
  private recorded = 0;
  private canaryRecorded = 0;
  private truncated = false;
  private writeFailed = false;
  private dirty = false;
  private stopped = false;
  private forwarded = false;
  private heartbeat?: NodeJS.Timeout;
  private syncTimer?: NodeJS.Timeout;
  private tlsCreds?: { key: Buffer; cert: Buffer };
  private readonly sockets = new Set<net.Socket>();
  private readonly dnsUdp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  private readonly anyUdp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  private readonly dnsTcp: net.Server;
  private readonly anyTcp: net.Server;

  private constructor(private readonly opts: SinkholeOptions) {
    this.heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    this.fd = fs.openSync(opts.logFile, 'a', 0o640);
    this.dnsUdp.on('message', (msg, rinfo) => {
      const ans = this.answerDns(msg, rinfo.address, rinfo.port, 'udp', this.dnsUdp.address());
      if (ans) this.dnsUdp.send(ans, rinfo.port, rinfo.address);
    });
    this.anyUdp.on('message', (msg, rinfo) => {
      const src = normalizeAddress(rinfo.address);
      const local = this.anyUdp.address();
      this.record({ proto: 'udp', src, ...this.dstOf('udp', src, rinfo.port, local.address, local.port), bytes: hex(msg) });
    });
    this.dnsTcp = net.createServer((sock) => this.onDnsTcp(sock));
    this.anyTcp = net.createServer((sock) => this.onAnyTcp(sock));
  }

  static async start(opts: SinkholeOptions): Promise<SinkholeServer> {
    const s = new SinkholeServer(opts);
    try {
      await Promise.all([
        listenUdp(s.dnsUdp, opts.dnsPort ?? 53),
        listenTcp(s.dnsTcp, opts.dnsPort ?? 53),
        listenTcp(s.anyTcp, opts.tcpPort),
        listenUdp(s.anyUdp, opts.udpPort),
      ]);
    } catch (e) {
      await s.close();
      throw e;
    }
    s.liveness('start');
    s.heartbeat = setInterval(() => s.liveness('heartbeat'), s.heartbeatMs);
    return s;
  }

  setService(service: SinkholeService, on: boolean): Record<SinkholeService, boolean> {
    if (!(service in this.services)) throw new Error(`unknown service ${String(service)}`);
    this.services[service] = on;
    if (service === 'uplink' && on) this.credentials();
    return { ...this.services };
  }

  /** Stops listening, writes the stop line, syncs and closes the log. Idempotent. */
  async stop(reason: string): Promise<void> {
    if (this.stopped) return;
    this.liveness('stop', reason);
    await this.close();
  }

  private async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.syncTimer);
    for (const s of this.sockets) s.destroy();
    const closing = [this.dnsTcp, this.anyTcp].map((srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve())));
    for (const u of [this.dnsUdp, this.anyUdp]) {
      try {
        u.close();
      } catch {
        // Never bound (start failed before it): nothing to close.
      }
    }
    await Promise.all(closing);
    this.sync();
    fs.closeSync(this.fd);
  }

  // ---------------------------------------------------------------- the log

  private liveness(event: SinkholeLiveness['event'], reason?: string): void {
    // Whether the host forwards, read again for every line: a gateway switched to forwarding
    // mid-run lets the lab reach the outside, and `run` makes the windows from this line's
    // predecessor INCONCLUSIVE (src/analysis/sinkhole-log.ts forwardingProblem).
    const forwarding = (this.opts.forwarding ?? forwardingOn)();
    if (forwarding.length > 0 && !this.forwarded) this.opts.onForwarding?.(forwarding);
    this.forwarded = forwarding.length > 0;
    const t = Date.now();
    const line: SinkholeLiveness = {
      time: new Date(t).toISOString(),
      t,
      event,
      instance: this.instance,
      heartbeatMs: this.heartbeatMs,
      forwarding,
      ...(reason ? { reason: reason.slice(0, 200) } : {}),
    };
    this.write(line);
    // A liveness line is worth nothing unless it is on the disk: synced at once.
    this.sync();
  }

  private record(r: Omit<SinkholeRecord, 'time' | 't'>): void {
    if (this.stopped || this.truncated) return;
    // Airlock's own canaries (a round every few seconds from every injection point) have a budget
    // of their own, CANARY_RECORD_FACTOR times the limit: counted with the device's records, they
    // used the limit up in a long run (20,000 on the virtual rig; rig/virtual.yaml's three devices
    // log 12 canary records a second, so in about 28 minutes) and the sinkhole then witnessed
    // nothing for the rest of it.
    const canary = r.dstPort === CANARY_PORT || (r.proto === 'dns' && typeof r.name === 'string' && r.name.toLowerCase().endsWith(`.${CANARY_DNS_SUFFIX}`));
    const count = canary ? ++this.canaryRecorded : ++this.recorded;
    const max = (this.opts.maxRecords ?? Infinity) * (canary ? CANARY_RECORD_FACTOR : 1);
    const t = Date.now();
    if (count > max) {
      // From here on nothing is recorded; the verdict makes every window from here INCONCLUSIVE
      // (src/verdict/window-data.ts), since the sinkhole no longer witnesses.
      this.truncated = true;
      this.write({ time: new Date(t).toISOString(), t, proto: r.proto, src: '', srcPort: 0, dst: '', dstPort: 0, truncated: true });
      return;
    }
    this.write({ time: new Date(t).toISOString(), t, ...r, uplink: this.services.uplink || undefined });
  }

  /** One write per line (a crash loses at most the line being written); fsync'd within syncMs. */
  private write(line: object): void {
    if (this.writeFailed) return;
    try {
      fs.writeSync(this.fd, JSON.stringify(line) + '\n');
    } catch (e) {
      // A full disk: keep answering (the lab's gateway must not vanish); the heartbeats stop
      // with the writes, so a reader sees the gap.
      this.writeFailed = true;
      this.opts.onWriteError?.(e as NodeJS.ErrnoException);
      return;
    }
    this.dirty = true;
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      this.sync();
    }, this.opts.syncMs ?? 200);
  }

  private sync(): void {
    if (!this.dirty || this.writeFailed) return;
    this.dirty = false;
    try {
      fs.fsyncSync(this.fd);
    } catch (e) {
      this.writeFailed = true;
      this.opts.onWriteError?.(e as NodeJS.ErrnoException);
    }
  }

  /**
   * The record's addressing from the conntrack entry of what the socket saw: the original
   * destination and the client's own source port (`seenSrcPort` when NAT remapped it). Without an
   * entry: the sinkhole's own address and port, marked `dstUnknown` (src/analysis/sinkhole-log.ts).
   */
  private dstOf(proto: 'tcp' | 'udp', src: string, srcPort: number, localAddr: string, localPort: number): Pick<SinkholeRecord, 'srcPort' | 'seenSrcPort' | 'dst' | 'dstPort' | 'dstUnknown'> {
    const o = originalDst(proto, { src, srcPort, localPort, localAddr });
    if (!o) return { srcPort, dst: normalizeAddress(localAddr), dstPort: localPort, dstUnknown: true };
    return { srcPort: o.srcPort, ...(o.srcPort !== srcPort ? { seenSrcPort: srcPort } : {}), dst: o.dst, dstPort: o.dstPort };
  }

  // ---------------------------------------------------------------- DNS (UDP and TCP 53)

  private answerDns(msg: Buffer, src: string, srcPort: number, transport: 'udp' | 'tcp', local: { address: string; port: number }): Buffer | null {
    const q = parseQuestion(msg);
    const d = this.dstOf(transport, src, srcPort, local.address, local.port);
    this.record({ proto: 'dns', transport, src: normalizeAddress(src), ...d, name: q?.name.slice(0, 1024), qtype: q ? (QTYPE_NAMES[q.qtype] ?? String(q.qtype)) : undefined, bytes: hex(msg) });
    return q ? buildAnswer(msg, q, this.opts.address, this.opts.address6) : null;
  }

  private track(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
  }

  private onDnsTcp(sock: net.Socket): void {
    this.track(sock);
    let buf = Buffer.alloc(0);
    sock.setTimeout(5000, () => sock.destroy());
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        const ans = this.answerDns(msg, sock.remoteAddress ?? '', sock.remotePort ?? 0, 'tcp', { address: sock.localAddress ?? '', port: sock.localPort ?? 53 });
        if (ans) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(ans.length);
          sock.write(Buffer.concat([len, ans]));
        }
      }
    });
  }

  // ---------------------------------------------------------------- any TCP port

  private credentials(): { key: Buffer; cert: Buffer } {
    if (this.tlsCreds) return this.tlsCreds;
    const dir = this.opts.stateDir ?? path.dirname(this.opts.logFile);
    const key = path.join(dir, 'sinkhole-key.pem');
    const cert = path.join(dir, 'sinkhole-cert.pem');
    if (!fs.existsSync(cert)) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sinkhole.lab'], { stdio: 'ignore' });
    }
    this.tlsCreds = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
    return this.tlsCreds;
  }

  private httpReply(first: Buffer): string {
    const host = httpHost(first);
    const reqLine = first.toString('latin1', 0, Math.min(first.length, 200)).split('\r\n')[0] ?? '';
    const p = reqLine.split(' ')[1] ?? '/';
    const send = (status: string, body: string, type = 'text/plain') =>
      `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    if (this.services['update-server'] && (host === UPDATE_NAME || p.startsWith('/update') || p.startsWith('/firmware'))) {
      if (p.startsWith('/firmware')) return send('200 OK', 'AIRLOCK-LAB-FIRMWARE-IMAGE\n', 'application/octet-stream');
      return send('200 OK', UPDATE_OFFER, 'application/json');
    }
    if (this.services.uplink) return send('200 OK', 'ok');
    return send('503 Service Unavailable', 'no uplink in the lab\n');
  }

  private onAnyTcp(sock: net.Socket): void {
    this.track(sock);
    const src = normalizeAddress(sock.remoteAddress ?? '');
    const srcPort = sock.remotePort ?? 0;
    const d = this.dstOf('tcp', src, srcPort, sock.localAddress ?? '', sock.localPort ?? 0);
    let logged = false;
    const logIt = (first?: Buffer) => {
      if (logged) return;
      logged = true;
      const name = first ? (isTlsHello(first) ? tlsServerName(first) : isHttp(first) ? httpHost(first) : undefined) : undefined;
      this.record({ proto: 'tcp', src, ...d, bytes: first ? hex(first) : undefined, name: name?.slice(0, 1024) });
    };
    const silent = setTimeout(() => logIt(), 1000);
    sock.on('close', () => {
      clearTimeout(silent);
      logIt();
    });
    sock.setTimeout(10_000, () => sock.destroy());
    sock.once('data', (first) => {
      clearTimeout(silent);
      logIt(first);
      if (isHttp(first) && (this.services.uplink || this.services['update-server'])) {
        sock.end(this.httpReply(first));
      } else if (isTlsHello(first) && this.services.uplink) {
        sock.pause();
        sock.unshift(first);
        const t = new tls.TLSSocket(sock, { isServer: true, ...this.credentials() });
        t.on('error', () => sock.destroy());
        t.once('data', (payload: Buffer) => {
          this.record({ proto: 'tcp', src, ...d, bytes: hex(payload), name: isHttp(payload) ? httpHost(payload)?.slice(0, 1024) : undefined });
          t.end(this.httpReply(isHttp(payload) ? payload : Buffer.from('GET / HTTP/1.1\r\n\r\n')));
        });
      }
      // Without an uplink the connection is accepted and read, and nothing is answered.
    });
  }
}

function listenUdp(s: dgram.Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ port, address: '::' }, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(s: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '::', ipv6Only: false }, () => {
      s.off('error', reject);
      resolve();
    });
  });
}
