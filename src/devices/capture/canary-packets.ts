/**
 * The bytes of the canaries Airlock sends itself (canary-child.ts): an IPv4 or IPv6 header and a
 * TCP SYN or an ICMP (ICMPv6) echo request for the raw socket, and a DNS query for a UDP socket.
 * Written from RFC 791, 8200, 793, 792, 4443 and 1035; the tests check each against tshark.
 */
import { isIPv6 } from 'node:net';
import { ipaddr } from '../../ipaddr.js';

function sum16(buf: Buffer, from: number, to: number, acc = 0): number {
  let s = acc;
  for (let i = from; i + 1 < to; i += 2) s += buf.readUInt16BE(i);
  if ((to - from) & 1) s += buf[to - 1]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4Words(addr: string): number {
  return addr.split('.').reduce((w, p) => w * 256 + Number(p), 0);
}

/** IPv4 header (checksum left 0: the kernel fills it for a raw socket with IP_HDRINCL). */
function ipv4Header(src: string, dst: string, proto: number, payloadLen: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLen, 2);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64;
  h[9] = proto;
  h.writeUInt32BE(ipv4Words(src), 12);
  h.writeUInt32BE(ipv4Words(dst), 16);
  return h;
}

function ipv6Bytes(addr: string): Buffer {
  return Buffer.from(ipaddr.IPv6.parse(addr).toByteArray());
}

/** IPv6 header (RFC 8200): no extension headers, hop limit 64. */
function ipv6Header(src: string, dst: string, next: number, payloadLen: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLen, 4);
  h[6] = next;
  h[7] = 64;
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return h;
}

/** The sum of the pseudo-header of an upper-layer checksum (RFC 793 for IPv4, RFC 8200 8.1 for IPv6). */
function pseudoSum(src: string, dst: string, proto: number, len: number): number {
  if (isIPv6(src)) {
    const p = Buffer.alloc(40);
    ipv6Bytes(src).copy(p, 0);
    ipv6Bytes(dst).copy(p, 16);
    p.writeUInt32BE(len, 32);
    p[39] = proto;
    return sum16(p, 0, 40);
  }
  const p = Buffer.alloc(12);
  p.writeUInt32BE(ipv4Words(src), 0);
  p.writeUInt32BE(ipv4Words(dst), 4);
  p[9] = proto;
  p.writeUInt16BE(len, 10);
  return sum16(p, 0, 12);
}

function ipHeader(src: string, dst: string, proto: number, payloadLen: number): Buffer {
  return isIPv6(src) ? ipv6Header(src, dst, proto, payloadLen) : ipv4Header(src, dst, proto, payloadLen);
}

/** A TCP SYN carrying `payload` (legal; a receiver without TCP Fast Open ignores the data), over IPv4 or IPv6 as `src` is. */
export function tcpSyn(src: string, dst: string, srcPort: number, dstPort: number, seq: number, payload: Buffer): Buffer {
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02;
  tcp.writeUInt16BE(64240, 14);
  payload.copy(tcp, 20);
  tcp.writeUInt16BE(fold(sum16(tcp, 0, tcp.length, pseudoSum(src, dst, 6, tcp.length))), 16);
  return Buffer.concat([ipHeader(src, dst, 6, tcp.length), tcp]);
}

/**
 * An echo request carrying `payload`: ICMP (type 8) over IPv4, ICMPv6 (type 128, RFC 4443, its
 * checksum over the IPv6 pseudo-header too) over IPv6, as `src` is.
 */
export function icmpEcho(src: string, dst: string, id: number, seq: number, payload: Buffer): Buffer {
  const v6 = isIPv6(src);
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = v6 ? 128 : 8;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  payload.copy(icmp, 8);
  icmp.writeUInt16BE(fold(sum16(icmp, 0, icmp.length, v6 ? pseudoSum(src, dst, 58, icmp.length) : 0)), 2);
  return Buffer.concat([ipHeader(src, dst, v6 ? 58 : 1, icmp.length), icmp]);
}

/** A recursive DNS query for `name`, type A, class IN. */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0100, 2);
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    q[o++] = l.length;
    o += q.write(l, o, 'ascii');
  }
  q[o++] = 0;
  q.writeUInt16BE(1, o);
  q.writeUInt16BE(1, o + 2);
  return q;
}
