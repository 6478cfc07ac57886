/**
 * The bytes of the canaries Airlock sends itself (canary-child.ts): an IPv4 header and a TCP
 * SYN or an ICMP echo request for the raw socket, and a DNS query for a UDP socket. Written
 * from RFC 791, 793, 792 and 1035; the tests check each against tshark.
 */

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

/** A TCP SYN carrying `payload` (legal; a receiver without TCP Fast Open ignores the data). */
export function tcpSyn(src: string, dst: string, srcPort: number, dstPort: number, seq: number, payload: Buffer): Buffer {
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02;
  tcp.writeUInt16BE(64240, 14);
  payload.copy(tcp, 20);
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(ipv4Words(src), 0);
  pseudo.writeUInt32BE(ipv4Words(dst), 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(tcp.length, 10);
  tcp.writeUInt16BE(fold(sum16(tcp, 0, tcp.length, sum16(pseudo, 0, 12))), 16);
  return Buffer.concat([ipv4Header(src, dst, 6, tcp.length), tcp]);
}

/** An ICMP echo request carrying `payload`. */
export function icmpEcho(src: string, dst: string, id: number, seq: number, payload: Buffer): Buffer {
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = 8;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  payload.copy(icmp, 8);
  icmp.writeUInt16BE(fold(sum16(icmp, 0, icmp.length)), 2);
  return Buffer.concat([ipv4Header(src, dst, 1, icmp.length), icmp]);
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
