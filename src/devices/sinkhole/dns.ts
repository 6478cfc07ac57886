/**
 * Just enough DNS (RFC 1035) for a sinkhole: read the first question of a query and answer
 * A/AAAA with the sinkhole's own address; anything else gets an empty NOERROR answer.
 */
import { isIPv4 } from 'node:net';
import { ipaddr } from '../../ipaddr.js';

export interface DnsQuestion {
  id: number;
  name: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question section. */
  end: number;
}

export const QTYPE_NAMES: Record<number, string> = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 12: 'PTR', 15: 'MX', 16: 'TXT', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

export function parseQuestion(msg: Buffer): DnsQuestion | null {
  if (msg.length < 12) return null;
  const qd = msg.readUInt16BE(4);
  if (qd < 1) return null;
  const labels: string[] = [];
  let off = 12;
  for (let guard = 0; guard < 128; guard++) {
    if (off >= msg.length) return null;
    const len = msg[off]!;
    off += 1;
    if (len === 0) break;
    if (len > 63 || off + len > msg.length) return null; // no compression in a question we accept
    labels.push(msg.toString('latin1', off, off + len));
    off += len;
  }
  if (off + 4 > msg.length) return null;
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), qtype: msg.readUInt16BE(off), qclass: msg.readUInt16BE(off + 2), end: off + 4 };
}

function v6Bytes(a: string): Buffer {
  return Buffer.from(ipaddr.IPv6.parse(a).toByteArray());
}

/** The answer to `q` (taken from `msg`): the sinkhole's address for A/AAAA, TTL 60. */
export function buildAnswer(msg: Buffer, q: DnsQuestion, a4: string, a6?: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const rd = msg[2]! & 0x01;
  header[2] = 0x80 | 0x04 | rd; // QR, AA, RD copied
  header[3] = 0x80; // RA, RCODE 0
  header.writeUInt16BE(1, 4);
  const question = msg.subarray(12, q.end);
  let rdata: Buffer | null = null;
  if (q.qtype === 1 && isIPv4(a4)) rdata = Buffer.from(a4.split('.').map(Number));
  if (q.qtype === 28 && a6) rdata = v6Bytes(a6);
  const answers: Buffer[] = [];
  if (rdata) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(q.qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    answers.push(rr, rdata);
    header.writeUInt16BE(1, 6);
  }
  return Buffer.concat([header, question, ...answers]);
}
