/**
 * QUIC Initial packets are recognised as QUIC (issue 5), from a capture made by text2pcap:
 * a QUIC v1 Initial (long header, type 0) and a QUIC v2 Initial (type 1) to an outside
 * address, and a UDP datagram that only looks similar (short header) which must stay `udp`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';

/** One text2pcap hexdump block (offset 000000) of `bytes`. */
function hexdump(bytes: number[]): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(`${i.toString(16).padStart(6, '0')} ${bytes.slice(i, i + 16).map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

function udpCapture(dir: string, name: string, srcPort: number, payload: number[]): string {
  const txt = path.join(dir, `${name}.txt`);
  const out = path.join(dir, `${name}.pcap`);
  writeFileSync(txt, hexdump(payload));
  execFileSync('text2pcap', ['-q', '-4', '10.9.0.2,203.0.113.9', '-u', `${srcPort},443`, txt, out]);
  return out;
}

const dcid = [1, 2, 3, 4, 5, 6, 7, 8];
// first byte: long header (0x80), fixed bit (0x40), type bits, packet-number length 3
const initialV1 = [0xc3, 0x00, 0x00, 0x00, 0x01, 8, ...dcid, 0, 0, 0x44, 0xd0, ...new Array(1200).fill(0)];
const initialV2 = [0xd3, 0x6b, 0x33, 0x43, 0xcf, 8, ...dcid, 0, 0, 0x44, 0xd0, ...new Array(1200).fill(0)];
const shortHeader = [0x43, ...dcid, ...new Array(40).fill(0x11)];

describe('QUIC Initial', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-quic-'));

  it('a QUIC v1 and a QUIC v2 Initial are findings with protocol quic; a short-header datagram stays udp', async () => {
    const files = [udpCapture(dir, 'v1', 50001, initialV1), udpCapture(dir, 'v2', 50002, initialV2), udpCapture(dir, 'short', 50003, shortHeader)];
    // tshark agrees which of them is QUIC (filter written here, not derived from our code)
    const quic = files.map((f) => execFileSync('tshark', ['-r', f, '-d', 'udp.port==443,quic', '-Y', 'quic.long.packet_type == 0 || quic.long.packet_type_v2 == 1', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim());
    expect(quic).toEqual(['1', '1', '']);
    const scan = await scanCaptures(files, { lab: ['10.9.0.0/24'] });
    const byPort = new Map(scan.findings.map((f) => [f.srcPort, f.protocol]));
    expect(byPort.get(50001)).toBe('quic');
    expect(byPort.get(50002)).toBe('quic');
    expect(byPort.get(50003)).toBe('udp');
    expect(scan.verdict).toBe('FAIL');
  });
});
