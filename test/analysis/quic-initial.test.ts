/**
 * QUIC SNI: client Initial packets are decrypted with the version's published salt (RFC 9001
 * section 5.2; RFC 9369 for v2) and the ClientHello's server name is read.
 *
 * - Key derivation against the test vectors of RFC 9001 Appendix A.1 and RFC 9369 Appendix A.1.
 * - A real ClientHello (made by Node's TLS client, OpenSSL) carried in CRYPTO frames split across
 *   two Initial packets (v1) and in one (v2), protected by test/utils/quic-initial-writer.ts,
 *   written to a capture by text2pcap; tshark decrypts the same packets and must show the same
 *   server name in the same frame (filter written here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientInitialKeys, scanCaptures } from '../../src/analysis/index.js';
import { clientInitial, cryptoFrame, realClientHello } from '../utils/quic-initial-writer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airlock-quic-initial-'));

function hexdump(bytes: Buffer): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push(`${i.toString(16).padStart(6, '0')} ${[...bytes.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** UDP datagrams 10.9.0.2:srcPort -> 203.0.113.9:443, one packet each, made by text2pcap. */
function capture(name: string, srcPort: number, datagrams: Buffer[]): string {
  const txt = path.join(dir, `${name}.txt`);
  const out = path.join(dir, `${name}.pcap`);
  writeFileSync(txt, datagrams.map(hexdump).join('\n'));
  execFileSync('text2pcap', ['-q', '-4', '10.9.0.2,203.0.113.9', '-u', `${srcPort},443`, txt, out]);
  return out;
}

function tsharkSni(file: string, filter: string): string {
  return execFileSync('tshark', ['-r', file, '-d', 'udp.port==443,quic', '-Y', filter, '-T', 'fields', '-e', 'frame.number', '-e', 'tls.handshake.extensions_server_name'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

describe('QUIC Initial keys', () => {
  it('match RFC 9001 Appendix A.1 (v1) and RFC 9369 Appendix A.1 (v2) for DCID 8394c8f03e515708', () => {
    const dcid = Buffer.from('8394c8f03e515708', 'hex');
    const v1 = clientInitialKeys(0x00000001, dcid)!;
    expect([v1.key, v1.iv, v1.hp].map((b) => b.toString('hex'))).toEqual(['1f369613dd76d5467730efcbe3b1a22d', 'fa044b2f42a3fd3b46fb255c', '9f50449e04a0e810283a1e9933adedd2']);
    const v2 = clientInitialKeys(0x6b3343cf, dcid)!;
    expect([v2.key, v2.iv, v2.hp].map((b) => b.toString('hex'))).toEqual(['8b1a0bc121284290a29e0971b5cd045d', '91f73e2351d8fa91660e909f', '45b95e15235d6f45a6b19cbcb0294ba9']);
    expect(clientInitialKeys(0xff00001d, dcid)).toBeNull();
  });
});

describe('QUIC SNI from a real ClientHello', () => {
  it('v1, the ClientHello split across two Initial packets: the name is read when it is whole (tshark agrees)', async () => {
    const hello = await realClientHello('quic-one.example.net');
    const half = Math.floor(hello.length / 2);
    const dcid = Buffer.from('0011223344556677', 'hex');
    const scid = Buffer.from('a1a2a3a4', 'hex');
    const file = capture('v1-split', 50011, [
      clientInitial(1, dcid, scid, 0, cryptoFrame(0, hello.subarray(0, half))),
      clientInitial(1, dcid, scid, 1, cryptoFrame(half, hello.subarray(half))),
    ]);
    expect(tsharkSni(file, 'tls.handshake.extensions_server_name == "quic-one.example.net"')).toBe('2\tquic-one.example.net');
    const scan = await scanCaptures([file], { lab: ['10.9.0.0/24'] });
    expect(scan.findings).toHaveLength(1);
    const f = scan.findings[0]!;
    expect(f.protocol).toBe('quic');
    expect(f.name).toBe('quic-one.example.net');
    expect(f.names).toEqual([{ name: 'quic-one.example.net', packet: 2, time: f.names![0]!.time, protocol: 'quic' }]);
  });

  it('v1 with the CRYPTO frames in reverse order, and v2: both named (tshark agrees)', async () => {
    const hello = await realClientHello('quic-two.example.net');
    const half = Math.floor(hello.length / 2);
    const dcid = Buffer.from('8899aabbccddeeff01', 'hex');
    const scid = Buffer.alloc(0);
    const reversed = capture('v1-reversed', 50012, [clientInitial(1, dcid, scid, 0, Buffer.concat([cryptoFrame(half, hello.subarray(half)), cryptoFrame(0, hello.subarray(0, half))]))]);
    const hello2 = await realClientHello('quic-v2.example.net');
    const v2 = capture('v2', 50013, [clientInitial(0x6b3343cf, dcid, scid, 0, cryptoFrame(0, hello2))]);
    expect(tsharkSni(reversed, 'tls.handshake.extensions_server_name == "quic-two.example.net"')).toBe('1\tquic-two.example.net');
    expect(tsharkSni(v2, 'quic.version == 0x6b3343cf && tls.handshake.extensions_server_name == "quic-v2.example.net"')).toBe('1\tquic-v2.example.net');
    const scan = await scanCaptures([reversed, v2], { lab: ['10.9.0.0/24'] });
    expect(scan.findings.map((f) => [f.protocol, f.name])).toEqual([
      ['quic', 'quic-two.example.net'],
      ['quic', 'quic-v2.example.net'],
    ]);
  });

  it('an Initial whose tag does not verify yields no name (the flow is still judged by its address)', async () => {
    const hello = await realClientHello('quic-bad.example.net');
    const p = clientInitial(1, Buffer.from('0102030405060708', 'hex'), Buffer.alloc(0), 0, cryptoFrame(0, hello));
    p[p.length - 1]! ^= 0xff; // damage the AEAD tag
    const file = capture('bad-tag', 50014, [p]);
    expect(tsharkSni(file, 'tls.handshake.extensions_server_name == "quic-bad.example.net"')).toBe('');
    const scan = await scanCaptures([file], { lab: ['10.9.0.0/24'] });
    expect(scan.findings.map((f) => [f.protocol, f.dst, f.name])).toEqual([['quic', '203.0.113.9', undefined]]);
  });
});
