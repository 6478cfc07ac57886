/**
 * The sinkhole: the virtual lab's gateway. Runs inside the sinkhole namespace, where nftables
 * redirects every TCP/UDP packet (any destination address, any port) to these listeners.
 * It answers DNS with its own address, accepts anything, records one line per connection,
 * datagram and DNS question to sinkhole.jsonl, and never forwards.
 *
 * Control: JSON lines on stdin `{"service":"uplink","on":true}`, acknowledged on stdout.
 *   uplink on        : answer like the Internet (HTTP 200; complete TLS handshakes, then HTTP 200)
 *   update-server on : serve a firmware update offer at http://update.lab/ (any lab address)
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import readline from 'node:readline';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { buildAnswer, parseQuestion, QTYPE_NAMES } from './dns.js';
import { normalizeAddress, originalDst } from './conntrack.js';
import { httpHost, isHttp, isTlsHello, tlsServerName } from './sniff.js';
import type { SinkholeRecord } from '../../analysis/sinkhole-log.js';

const { values: opt } = parseArgs({
  options: {
    log: { type: 'string' },
    address: { type: 'string' },
    address6: { type: 'string' },
    'tcp-port': { type: 'string', default: '10001' },
    'udp-port': { type: 'string', default: '10002' },
    state: { type: 'string' },
    'max-records': { type: 'string', default: '20000' },
  },
});
const logFile = opt.log!;
const address = opt.address!;
const address6 = opt.address6;
const maxRecords = Number(opt['max-records']);
const services = { uplink: false, 'update-server': false };
const UPDATE_NAME = 'update.lab';

let recorded = 0;
const fd = fs.openSync(logFile, 'a');
let writeFailed = false;
function record(r: Omit<SinkholeRecord, 'time' | 't'>): void {
  if (recorded > maxRecords || writeFailed) return;
  try {
    recordLine(r);
  } catch (e) {
    // A full disk: keep answering (the lab's gateway must not vanish), tell the parent once.
    writeFailed = true;
    process.stdout.write(JSON.stringify({ writeFailed: true, code: (e as NodeJS.ErrnoException).code, error: (e as Error).message }) + '\n');
  }
}

function recordLine(r: Omit<SinkholeRecord, 'time' | 't'>): void {
  const t = Date.now();
  const line: SinkholeRecord = { time: new Date(t).toISOString(), t, ...r, uplink: services.uplink || undefined };
  if (++recorded > maxRecords) {
    fs.writeSync(fd, JSON.stringify({ time: line.time, t, proto: r.proto, src: '', srcPort: 0, dst: '', dstPort: 0, truncated: true }) + '\n');
    return;
  }
  // One write per line: a crash loses at most the line being written.
  fs.writeSync(fd, JSON.stringify(line) + '\n');
}

function dstOf(proto: 'tcp' | 'udp', src: string, srcPort: number, localAddr: string, localPort: number) {
  return originalDst(proto, src, srcPort, undefined, localPort) ?? { dst: normalizeAddress(localAddr), dstPort: localPort };
}

function hex(b: Buffer): string {
  return b.subarray(0, 64).toString('hex');
}

// ------------------------------------------------------------------ DNS (UDP and TCP 53)

function answerDns(msg: Buffer, src: string, srcPort: number, transport: 'udp' | 'tcp', local: { address: string; port: number }): Buffer | null {
  const q = parseQuestion(msg);
  const d = dstOf(transport, src, srcPort, local.address, local.port);
  record({ proto: 'dns', transport, src: normalizeAddress(src), srcPort, ...d, name: q?.name, qtype: q ? (QTYPE_NAMES[q.qtype] ?? String(q.qtype)) : undefined, bytes: hex(msg) });
  return q ? buildAnswer(msg, q, address, address6) : null;
}

const dnsUdp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
dnsUdp.on('message', (msg, rinfo) => {
  const ans = answerDns(msg, rinfo.address, rinfo.port, 'udp', dnsUdp.address());
  if (ans) dnsUdp.send(ans, rinfo.port, rinfo.address);
});

const dnsTcp = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('error', () => undefined);
  sock.setTimeout(5000, () => sock.destroy());
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      const ans = answerDns(msg, sock.remoteAddress ?? '', sock.remotePort ?? 0, 'tcp', { address: sock.localAddress ?? '', port: sock.localPort ?? 53 });
      if (ans) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(ans.length);
        sock.write(Buffer.concat([len, ans]));
      }
    }
  });
});

// ------------------------------------------------------------------ any TCP port

let tlsCreds: { key: Buffer; cert: Buffer } | undefined;
function credentials(): { key: Buffer; cert: Buffer } {
  if (tlsCreds) return tlsCreds;
  const dir = opt.state ?? path.dirname(logFile);
  const key = path.join(dir, 'sinkhole-key.pem');
  const cert = path.join(dir, 'sinkhole-cert.pem');
  if (!fs.existsSync(cert)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sinkhole.lab'], { stdio: 'ignore' });
  }
  tlsCreds = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  return tlsCreds;
}

const UPDATE_OFFER = JSON.stringify({ version: '9.9.9', url: `http://${UPDATE_NAME}/firmware-9.9.9.bin`, note: 'offered by the Airlock lab update server' });

function httpReply(first: Buffer): string {
  const host = httpHost(first);
  const reqLine = first.toString('latin1', 0, Math.min(first.length, 200)).split('\r\n')[0] ?? '';
  const p = reqLine.split(' ')[1] ?? '/';
  const send = (status: string, body: string, type = 'text/plain') =>
    `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  if (services['update-server'] && (host === UPDATE_NAME || p.startsWith('/update') || p.startsWith('/firmware'))) {
    if (p.startsWith('/firmware')) return send('200 OK', 'AIRLOCK-LAB-FIRMWARE-IMAGE\n', 'application/octet-stream');
    return send('200 OK', UPDATE_OFFER, 'application/json');
  }
  if (services.uplink) return send('200 OK', 'ok');
  return send('503 Service Unavailable', 'no uplink in the lab\n');
}

const anyTcp = net.createServer((sock) => {
  const src = normalizeAddress(sock.remoteAddress ?? '');
  const srcPort = sock.remotePort ?? 0;
  const d = dstOf('tcp', src, srcPort, sock.localAddress ?? '', sock.localPort ?? 0);
  let logged = false;
  const logIt = (first?: Buffer) => {
    if (logged) return;
    logged = true;
    const name = first ? (isTlsHello(first) ? tlsServerName(first) : isHttp(first) ? httpHost(first) : undefined) : undefined;
    record({ proto: 'tcp', src, srcPort, ...d, bytes: first ? hex(first) : undefined, name });
  };
  const silent = setTimeout(() => logIt(), 1000);
  sock.on('error', () => undefined);
  sock.on('close', () => {
    clearTimeout(silent);
    logIt();
  });
  sock.setTimeout(10_000, () => sock.destroy());
  sock.once('data', (first) => {
    clearTimeout(silent);
    logIt(first);
    if (isHttp(first) && (services.uplink || services['update-server'])) {
      sock.end(httpReply(first));
    } else if (isTlsHello(first) && services.uplink) {
      sock.pause();
      sock.unshift(first);
      const t = new tls.TLSSocket(sock, { isServer: true, ...credentials() });
      t.on('error', () => sock.destroy());
      t.once('data', (payload: Buffer) => {
        record({ proto: 'tcp', src, srcPort, ...d, bytes: hex(payload), name: isHttp(payload) ? httpHost(payload) : undefined });
        t.end(httpReply(isHttp(payload) ? payload : Buffer.from('GET / HTTP/1.1\r\n\r\n')));
      });
    }
    // Without an uplink the connection is accepted and read, and nothing is answered.
  });
});

// ------------------------------------------------------------------ any UDP port

const anyUdp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
anyUdp.on('message', (msg, rinfo) => {
  const src = normalizeAddress(rinfo.address);
  const local = anyUdp.address();
  record({ proto: 'udp', src, srcPort: rinfo.port, ...dstOf('udp', src, rinfo.port, local.address, local.port), bytes: hex(msg) });
});

// ------------------------------------------------------------------ start and control

function listenUdp(s: dgram.Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ port, address: '::' }, () => resolve());
  });
}
function listenTcp(s: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '::', ipv6Only: false }, () => resolve());
  });
}

await Promise.all([
  listenUdp(dnsUdp, 53),
  listenTcp(dnsTcp, 53),
  listenTcp(anyTcp, Number(opt['tcp-port'])),
  listenUdp(anyUdp, Number(opt['udp-port'])),
]);
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  try {
    const cmd = JSON.parse(line) as { service: keyof typeof services; on: boolean };
    if (!(cmd.service in services)) throw new Error(`unknown service ${String(cmd.service)}`);
    services[cmd.service] = Boolean(cmd.on);
    if (cmd.service === 'uplink' && cmd.on) credentials();
    process.stdout.write(JSON.stringify({ ok: true, services }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message }) + '\n');
  }
});
// The lab's owner holds our stdin: when it goes away, so do we.
rl.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
