/**
 * Writes protected QUIC client Initial packets for tests, from RFC 9001 (sections 5.2-5.4) and
 * RFC 9369 (QUIC v2): written here from the RFCs, apart from src/analysis/quic-initial.ts, so the
 * analyzer's decryption is checked against another implementation (and tshark checks this one).
 */
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

const SALTS: Record<number, string> = {
  0x00000001: '38762cf7f55934b34d179ae6a4c80cadccbb7f0a',
  0x6b3343cf: '0dede3def700a6db819381be6e269dcbf9bd2ed9',
};

function label(name: string, length: number): Buffer {
  const l = Buffer.from('tls13 ' + name);
  return Buffer.concat([Buffer.from([length >> 8, length & 0xff, l.length]), l, Buffer.from([0])]);
}

/** HKDF-Expand only (RFC 5869 section 2.3), one block: what hkdfSync cannot do without an extract. */
function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  return createHmac('sha256', prk).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

export function clientKeys(version: number, dcid: Buffer): { key: Buffer; iv: Buffer; hp: Buffer } {
  // hkdfSync extracts then expands: exactly client_initial_secret = Expand-Label(Extract(salt, dcid), "client in").
  const client = Buffer.from(hkdfSync('sha256', dcid, Buffer.from(SALTS[version]!, 'hex'), label('client in', 32), 32));
  const p = version === 0x6b3343cf ? 'quicv2 ' : 'quic ';
  return { key: expand(client, label(p + 'key', 16), 16), iv: expand(client, label(p + 'iv', 12), 12), hp: expand(client, label(p + 'hp', 16), 16) };
}

/** A QUIC variable-length integer in 2 bytes (values below 16384) or 4 bytes. */
function varint(v: number): Buffer {
  if (v < 0x4000) return Buffer.from([0x40 | (v >> 8), v & 0xff]);
  return Buffer.from([0x80 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
}

/** A CRYPTO frame (RFC 9000 section 19.6) carrying `data` at stream offset `offset`. */
export function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), data]);
}

/** One protected client Initial carrying `frames`, padded so the datagram is 1200 bytes. */
export function clientInitial(version: number, dcid: Buffer, scid: Buffer, pn: number, frames: Buffer): Buffer {
  const k = clientKeys(version, dcid);
  const type = version === 0x6b3343cf ? 1 : 0;
  const pnLen = 2;
  const first = 0xc0 | (type << 4) | (pnLen - 1);
  const headBase = Buffer.concat([Buffer.from([first, version >>> 24, (version >> 16) & 0xff, (version >> 8) & 0xff, version & 0xff, dcid.length]), dcid, Buffer.from([scid.length]), scid, Buffer.from([0])]);
  const lengthFieldSize = 2;
  const padTo = 1200 - headBase.length - lengthFieldSize - pnLen - 16;
  const plain = Buffer.concat([frames, Buffer.alloc(Math.max(0, padTo - frames.length))]); // PADDING frames are zero bytes
  const header = Buffer.concat([headBase, varint(pnLen + plain.length + 16), Buffer.from([pn >> 8, pn & 0xff])]);
  const nonce = Buffer.from(k.iv);
  nonce[10]! ^= pn >> 8;
  nonce[11]! ^= pn & 0xff;
  const c = createCipheriv('aes-128-gcm', k.key, nonce);
  c.setAAD(header);
  const sealed = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  const packet = Buffer.concat([header, sealed]);
  const pnOffset = header.length - pnLen;
  const mask = createCipheriv('aes-128-ecb', k.hp, null).update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

/**
 * A real TLS 1.3 ClientHello handshake message (no record header) naming `servername`, made by
 * Node's TLS client (OpenSSL) against a local socket that only records what it receives.
 */
export async function realClientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      let got = Buffer.alloc(0);
      sock.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
          sock.destroy();
          server.close();
          resolve(got.subarray(5, 5 + got.readUInt16BE(3)));
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      const client = tls.connect({ host: '127.0.0.1', port, servername, minVersion: 'TLSv1.3', ALPNProtocols: ['h3'] });
      client.on('error', () => {}); // the recording server hangs up: that error is expected
      setTimeout(() => reject(new Error('no ClientHello within 10 s')), 10_000).unref();
    });
  });
}
