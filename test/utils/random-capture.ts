/**
 * Random captures for the agreement test of the hot path and the reference scan: conversations
 * between lab, outside and link-confined addresses (IPv4 and IPv6), TCP with TLS ClientHellos
 * (whole or split across segments) and HTTP requests, UDP with DNS queries and answers (several
 * names per socket), ICMP, IPv4 fragments, carried plain or in VLAN/QinQ, PPPoE, MPLS, GRE,
 * ERSPAN, VXLAN, 6in4, Teredo or LLC/SNAP, between ARP, LLDP, STP and unknown frame types.
 * Seeded, so a failure names the seed that reproduces it.
 */
import { writeFileSync } from 'node:fs';

const V4_LAB = ['10.9.0.2', '10.9.0.3', '10.9.0.10', '10.9.0.11', '10.9.0.1'];
const V4_OUT = ['203.0.113.7', '198.51.100.20', '192.0.2.1'];
const V4_CONFINED = ['255.255.255.255', '224.0.0.251', '239.1.2.3', '10.9.0.255'];
const V6_LAB = ['fd09::2', 'fd09::10', 'fd09::1'];
const V6_OUT = ['2001:db8::7', '2001:db8:1::9'];
const V6_CONFINED = ['fe80::1', 'ff02::fb', 'ff05::2', 'ff0e::1'];
const NAMES = ['a.vendor.example', 'b.vendor.example', 'cam.local', 'update.lab', 'x.update.lab', 'telemetry.example.net', 'c.vendor.example'];
const HOSTS = ['one.vendor.example', 'two.vendor.example', 'proxy.lab'];
const MACS = ['02:00:00:00:00:0a', '02:00:00:00:00:0b', '02:00:00:00:00:01'];

function v4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function v6(a: string): Buffer {
  const [l, r] = a.split('::') as [string, string | undefined];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

const mac = (m: string) => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));

function dnsName(n: string): Buffer {
  return Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

function dns(id: number, name: string, response: boolean): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, dnsName(name), Buffer.from([0, 1, 0, 1])]);
}

function clientHello(sni: string): Buffer {
  const name = Buffer.from(sni);
  const ext = Buffer.concat([Buffer.from([0, 0]), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(ext.length), ext]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}

function u16(v: number): Buffer {
  return Buffer.from([v >> 8, v & 0xff]);
}

function ip4(src: string, dst: string, proto: number, payload: Buffer, id = 0, frag = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(id, 4);
  h.writeUInt16BE(frag, 6);
  h[8] = 64;
  h[9] = proto;
  v4(src).copy(h, 12);
  v4(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

function ip6(src: string, dst: string, proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = proto;
  h[7] = 64;
  v6(src).copy(h, 8);
  v6(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function tcp(sport: number, dport: number, seq: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h[12] = 0x50;
  h[13] = flags;
  return Buffer.concat([h, payload]);
}

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

interface Conversation {
  family: 4 | 6;
  a: string;
  b: string;
  proto: number;
  aPort: number;
  bPort: number;
  kind: 'dns' | 'tls' | 'http' | 'raw' | 'icmp';
  seqA: number;
  sent: number;
  macA: string;
}

/** Writes `packets` frames under `seed` to `file` (classic pcap, Ethernet). */
export function writeRandomCapture(file: string, seed: number, packets: number): void {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const convs: Conversation[] = [];
  for (let i = 0; i < 40; i++) {
    const family: 4 | 6 = rnd() < 0.7 ? 4 : 6;
    const pool = family === 4 ? [...V4_LAB, ...V4_LAB, ...V4_OUT, ...V4_CONFINED] : [...V6_LAB, ...V6_LAB, ...V6_OUT, ...V6_CONFINED];
    const kind = pick(['dns', 'dns', 'tls', 'http', 'raw', 'icmp'] as const);
    const proto = kind === 'icmp' ? (family === 4 ? 1 : 58) : kind === 'dns' || kind === 'raw' ? (rnd() < 0.8 ? 17 : 6) : 6;
    const bPort = kind === 'dns' ? pick([53, 53, 5353]) : kind === 'tls' ? 443 : kind === 'http' ? pick([80, 8080]) : 1000 + Math.floor(rnd() * 9000);
    convs.push({ family, a: pick(family === 4 ? V4_LAB : V6_LAB), b: pick(pool), proto, aPort: 1024 + Math.floor(rnd() * 60000), bPort, kind, seqA: Math.floor(rnd() * 4e9), sent: 0, macA: pick(MACS) });
  }
  const frames: Buffer[] = [];
  const wrap = (l3: Buffer, family: 4 | 6, srcMac: string): Buffer => {
    const et = u16(family === 4 ? 0x0800 : 0x86dd);
    const eth = (type: Buffer, payload: Buffer, from = srcMac) => Buffer.concat([mac(MACS[2]!), mac(from), type, payload]);
    switch (Math.floor(rnd() * 12)) {
      case 0:
        return eth(u16(0x8100), Buffer.concat([u16(10), et, l3]));
      case 1:
        return eth(u16(0x88a8), Buffer.concat([u16(10), u16(0x8100), u16(20), et, l3]));
      case 2: {
        const ppp = Buffer.concat([u16(family === 4 ? 0x21 : 0x57), l3]);
        return eth(u16(0x8864), Buffer.concat([Buffer.from([0x11, 0]), u16(0x11), u16(ppp.length), ppp]));
      }
      case 3:
        return eth(u16(0x8847), Buffer.concat([Buffer.from([0, 0x64, 0, 64, 0, 0xc8, 1, 64]), l3]));
      case 4:
        return eth(u16(0x0800), ip4('10.9.0.2', '10.9.0.3', 47, Buffer.concat([u16(0), et, l3])));
      case 5:
        return eth(u16(0x0800), ip4('10.9.0.2', '10.9.0.3', 17, udp(50000, 4789, Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 42, 0]), eth(et, l3, '02:00:00:00:00:20')]))));
      case 6:
        if (family === 6) return eth(u16(0x0800), ip4('10.9.0.2', '10.9.0.3', 41, l3));
        return eth(et, l3);
      case 7:
        if (family === 6) return eth(u16(0x0800), ip4('10.9.0.2', '10.9.0.3', 17, udp(50001, 3544, l3)));
        return eth(et, l3);
      case 8: {
        const llc = Buffer.concat([Buffer.from([0xaa, 0xaa, 3, 0, 0, 0]), et, l3]);
        return eth(u16(llc.length), llc);
      }
      case 9:
        return eth(u16(0x0800), ip4('10.9.0.2', '10.9.0.3', 47, Buffer.concat([u16(0x1000), u16(0x88be), Buffer.alloc(4), Buffer.from([0x10, 0, 0, 1, 0, 0, 0, 0]), eth(et, l3, '02:00:00:00:00:21')])));
      default:
        return eth(et, l3);
    }
  };
  while (frames.length < packets) {
    const r = rnd();
    if (r < 0.04) {
      const other = pick([
        Buffer.concat([mac('ff:ff:ff:ff:ff:ff'), mac(MACS[0]!), u16(0x0806), Buffer.alloc(28, 1)]),
        Buffer.concat([mac('01:80:c2:00:00:0e'), mac(MACS[1]!), u16(0x88cc), Buffer.alloc(30, 2)]),
        Buffer.concat([mac('01:80:c2:00:00:00'), mac(MACS[1]!), u16(38), Buffer.from([0x42, 0x42, 3]), Buffer.alloc(35)]),
        Buffer.concat([mac(MACS[2]!), mac(MACS[0]!), u16(pick([0x88b5, 0x88e5, 0x8137])), Buffer.alloc(46)]),
      ]);
      frames.push(other);
      continue;
    }
    const c = pick(convs);
    const fromA = c.sent === 0 || rnd() < 0.6;
    const [src, dst, sp, dp] = fromA ? [c.a, c.b, c.aPort, c.bPort] : [c.b, c.a, c.bPort, c.aPort];
    let payload: Buffer = Buffer.alloc(0);
    if (c.kind === 'dns') payload = dns(c.sent, pick(NAMES), !fromA);
    else if (c.kind === 'tls' && fromA && c.sent < 3) payload = clientHello(pick(['telemetry.example.net', 'x.update.lab', 'sni.vendor.example']));
    else if (c.kind === 'http' && fromA) payload = Buffer.from(`GET / HTTP/1.1\r\nHost: ${pick(HOSTS)}\r\n\r\n`);
    else if (rnd() < 0.5) payload = Buffer.alloc(Math.floor(rnd() * 60), Math.floor(rnd() * 256));
    let l4: Buffer;
    if (c.proto === 6) {
      if (c.kind === 'dns') payload = Buffer.concat([u16(payload.length), payload]);
      l4 = tcp(sp, dp, fromA ? c.seqA : 1000, 0x18, payload);
      if (fromA) c.seqA = (c.seqA + payload.length) >>> 0;
    } else if (c.proto === 17) l4 = udp(sp, dp, payload);
    else l4 = Buffer.concat([Buffer.from([8, 0, 0, 0]), Buffer.alloc(4), payload]);
    c.sent++;
    const srcMac = fromA ? c.macA : MACS[2]!;
    if (c.family === 4 && rnd() < 0.05 && l4.length > 16) {
      // Two fragments of one datagram (offsets in 8-byte units).
      const id = Math.floor(rnd() * 65535);
      frames.push(wrap(ip4(src, dst, c.proto, l4.subarray(0, 16), id, 0x2000), 4, srcMac));
      frames.push(wrap(ip4(src, dst, c.proto, l4.subarray(16), id, 2), 4, srcMac));
      continue;
    }
    frames.push(wrap(c.family === 4 ? ip4(src, dst, c.proto, l4) : ip6(src, dst, c.proto, l4), c.family, srcMac));
  }
  const head = pcapGlobalHeader(1);
  const recs = frames.map((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1700000000 + Math.floor(i / 100), 0);
    h.writeUInt32LE((i % 100) * 10000, 4);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return Buffer.concat([h, f]);
  });
  writeFileSync(file, Buffer.concat([head, ...recs]));
}

/** A classic pcap file header (microsecond magic, little-endian, snaplen 65535) for `linkType`. */
export function pcapGlobalHeader(linkType: number): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(linkType, 20);
  return head;
}

/** One classic pcap record (little-endian, microseconds) holding `frame` at `ms` since the epoch. */
export function pcapRecord(ms: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(Math.floor(ms / 1000), 0);
  h.writeUInt32LE(Math.round((ms % 1000) * 1000), 4);
  h.writeUInt32LE(frame.length, 8);
  h.writeUInt32LE(frame.length, 12);
  return Buffer.concat([h, frame]);
}

/** A DNS query (id 0x1234, recursion desired) for the A record of `name`. */
export function dnsQueryFor(name: string): Buffer {
  const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** An IPv4/UDP packet (no link header; checksums zero) from dotted-quad addresses. */
export function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const u = Buffer.alloc(8);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(28 + payload.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  src.split('.').forEach((o, i) => ip.writeUInt8(Number(o), 12 + i));
  dst.split('.').forEach((o, i) => ip.writeUInt8(Number(o), 16 + i));
  return Buffer.concat([ip, u, payload]);
}
