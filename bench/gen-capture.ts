/**
 * Writes a large synthetic pcap for the analyzer benchmark: mixed TCP, UDP, DNS and TLS over
 * many flows, most inside the lab (10.0.0.0/16), a few leaving it (documentation ranges).
 * Fast: packets are laid out directly into a 16 MiB buffer that is written and reused.
 *
 *   npx tsx bench/gen-capture.ts OUT.pcap [packets=5000000] [flows=200000]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Bump when the generated traffic changes (the benchmark keeps generated files by this version). */
export const GENERATOR_VERSION = 2;

export interface GenResult {
  packets: number;
  flows: number;
  bytes: number;
  outsideFlows: number;
}

/** Flows with packets in flight at any moment. */
const ACTIVE = 2048;
const KIND_TCP = 0;
const KIND_TLS = 1;
const KIND_UDP = 2;
const KIND_DNS = 3;

export function generateCapture(file: string, packets = 5_000_000, flows = 200_000): GenResult {
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const src = new Uint32Array(flows);
  const dst = new Uint32Array(flows);
  const sport = new Uint16Array(flows);
  const dport = new Uint16Array(flows);
  const kind = new Uint8Array(flows);
  const sent = new Uint32Array(flows);
  const seqA = new Uint32Array(flows);
  const outside = new Uint8Array(flows);
  let outsideFlows = 0;
  for (let f = 0; f < flows; f++) {
    src[f] = (0x0a000000 | (1 + Math.floor(rnd() * 60000))) >>> 0; // 10.0.x.y
    const out = rnd() < 0.03;
    if (out) outsideFlows++;
    outside[f] = out ? 1 : 0;
    dst[f] = out ? (rnd() < 0.5 ? 0xcb007100 : 0xc6336400) + 1 + Math.floor(rnd() * 250) : (0x0a000000 | (1 + Math.floor(rnd() * 60000))) >>> 0;
    const r = rnd();
    kind[f] = r < 0.35 ? KIND_TCP : r < 0.6 ? KIND_TLS : r < 0.85 ? KIND_UDP : KIND_DNS;
    sport[f] = 1024 + Math.floor(rnd() * 60000);
    dport[f] = kind[f] === KIND_TLS ? 443 : kind[f] === KIND_DNS ? 53 : kind[f] === KIND_TCP ? 8000 + Math.floor(rnd() * 100) : 5000 + Math.floor(rnd() * 1000);
    seqA[f] = Math.floor(rnd() * 4294967295);
  }
  const sni = Buffer.from('telemetry.vendor.example', 'latin1');
  // Lab hosts ask the lab's resolver for lab names; flows that leave ask for an outside name.
  const qnameOut = Buffer.from('\x07updates\x06vendor\x07example\x00', 'latin1');
  const qnameLab = Buffer.from('\x07sensors\x03lab\x05local\x00', 'latin1');

  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
  let o = 0;
  let bytes = 0;
  // pcap header, microsecond, little-endian, Ethernet
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(0, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(262144, 16);
  buf.writeUInt32LE(1, 20);
  o = 24;
  let sec = 1_767_225_600;
  let usec = 0;
  for (let i = 0; i < packets; i++) {
    if (o > buf.length - 2048) {
      writeSync(fd, buf, 0, o);
      bytes += o;
      o = 0;
    }
    // Like real traffic, flows are bursty: packets come from a window of active flows that
    // slides over all flows during the file (every flow gets packets; no flow is endless).
    const f = Math.min(flows - 1, Math.floor((i / packets) * flows) + Math.floor(rnd() * ACTIVE));
    const n = sent[f]++;
    const k = kind[f]!;
    const reply = n % 2 === 1;
    const tcp = k === KIND_TCP || k === KIND_TLS;
    let payload = 0;
    let flags = 0x10;
    if (tcp) {
      if (n === 0) flags = 0x02;
      else if (n === 1) flags = 0x12;
      else if (n === 2 && k === KIND_TLS) {
        flags = 0x18;
        payload = 5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 9 + sni.length;
      } else payload = reply ? 100 + (n % 200) : 40 + (n % 60);
    } else if (k === KIND_DNS) payload = 12 + (outside[f] ? qnameOut : qnameLab).length + 4;
    else payload = 60 + (n % 400);
    const l4 = tcp ? 20 : 8;
    const ipLen = 20 + l4 + payload;
    const frame = 14 + ipLen;
    usec += 7;
    if (usec >= 1_000_000) {
      usec -= 1_000_000;
      sec++;
    }
    buf.writeUInt32LE(sec, o);
    buf.writeUInt32LE(usec, o + 4);
    buf.writeUInt32LE(frame, o + 8);
    buf.writeUInt32LE(frame, o + 12);
    o += 16;
    // Ethernet
    buf.fill(2, o, o + 12);
    buf[o + 12] = 0x08;
    buf[o + 13] = 0x00;
    o += 14;
    // IPv4
    const s = reply ? dst[f]! : src[f]!;
    const d = reply ? src[f]! : dst[f]!;
    buf[o] = 0x45;
    buf[o + 1] = 0;
    buf.writeUInt16BE(ipLen, o + 2);
    buf.writeUInt32BE(0x00004000, o + 4);
    buf[o + 8] = 64;
    buf[o + 9] = tcp ? 6 : 17;
    buf.writeUInt16BE(0, o + 10);
    buf.writeUInt32BE(s, o + 12);
    buf.writeUInt32BE(d, o + 16);
    o += 20;
    const sp = reply ? dport[f]! : sport[f]!;
    const dp = reply ? sport[f]! : dport[f]!;
    buf.writeUInt16BE(sp, o);
    buf.writeUInt16BE(dp, o + 2);
    if (tcp) {
      buf.writeUInt32BE((seqA[f]! + n * 100) >>> 0, o + 4);
      buf.writeUInt32BE(0, o + 8);
      buf[o + 12] = 0x50;
      buf[o + 13] = flags;
      buf.writeUInt32BE(0xffff0000, o + 14);
      buf.writeUInt16BE(0, o + 18);
      o += 20;
    } else {
      buf.writeUInt16BE(8 + payload, o + 4);
      buf.writeUInt16BE(0, o + 6);
      o += 8;
    }
    if (k === KIND_TLS && n === 2) {
      // TLS record + ClientHello with only a server_name extension
      const start = o;
      const extLen = 9 + sni.length;
      const bodyLen = 2 + 32 + 1 + 4 + 2 + 2 + extLen;
      buf[o++] = 0x16; buf[o++] = 3; buf[o++] = 1;
      buf.writeUInt16BE(4 + bodyLen, o); o += 2;
      buf[o++] = 1; buf[o++] = 0; buf.writeUInt16BE(bodyLen, o); o += 2;
      buf[o++] = 3; buf[o++] = 3;
      buf.fill(7, o, o + 32); o += 32;
      buf[o++] = 0; // session id
      buf.writeUInt16BE(2, o); o += 2; buf.writeUInt16BE(0x1301, o); o += 2;
      buf[o++] = 1; buf[o++] = 0; // compression
      buf.writeUInt16BE(extLen, o); o += 2;
      buf.writeUInt16BE(0, o); o += 2; buf.writeUInt16BE(sni.length + 5, o); o += 2;
      buf.writeUInt16BE(sni.length + 3, o); o += 2; buf[o++] = 0; buf.writeUInt16BE(sni.length, o); o += 2;
      sni.copy(buf, o); o += sni.length;
      if (o - start !== payload) throw new Error(`ClientHello length ${o - start} != ${payload}`);
    } else if (k === KIND_DNS) {
      buf.writeUInt16BE(f & 0xffff, o);
      buf[o + 2] = reply ? 0x81 : 0x01;
      buf[o + 3] = reply ? 0x80 : 0;
      buf.writeUInt32BE(0x00010000, o + 4);
      buf.writeUInt32BE(0, o + 8);
      const qname = outside[f] ? qnameOut : qnameLab;
      qname.copy(buf, o + 12);
      buf.writeUInt32BE(0x00010001, o + 12 + qname.length);
      o += payload;
    } else {
      buf.fill(0x61 + (n & 15), o, o + payload);
      o += payload;
    }
  }
  writeSync(fd, buf, 0, o);
  bytes += o;
  closeSync(fd);
  return { packets, flows, bytes, outsideFlows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, p, f] = process.argv.slice(2);
  if (!file) {
    console.error('usage: gen-capture.ts OUT.pcap [packets] [flows]');
    process.exit(2);
  }
  const t = performance.now();
  const r = generateCapture(file, p ? Number(p) : undefined, f ? Number(f) : undefined);
  console.log(JSON.stringify({ ...r, ms: Math.round(performance.now() - t) }));
}
