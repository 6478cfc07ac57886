/**
 * The server name of a QUIC connection, read from its client's Initial packets.
 *
 * Initial packets are encrypted, but with keys anyone can derive: the version's published salt
 * and the Destination Connection ID of the client's first Initial (RFC 9001 section 5.2 for QUIC
 * v1, RFC 9369 section 3.3 for QUIC v2). Decrypting them (header protection, section 5.4, then
 * AES-128-GCM, section 5.3) yields CRYPTO frames (RFC 9000 section 19.6) whose stream is the TLS
 * ClientHello, which names the server (RFC 6066 server_name). A ClientHello with a large key share
 * spans several Initial packets, so the CRYPTO stream is gathered by offset until it is whole.
 *
 * Everything uses node:crypto (HMAC-SHA256 for HKDF, AES-128-ECB for the header mask,
 * AES-128-GCM); this runs on a flow's first few Initial packets only, never per packet.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { tlsHandshakeServerName } from './app-names.js';

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for lengths up to 32. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from('tls13 ' + label, 'latin1');
  const info = Buffer.alloc(4 + full.length);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0;
  // HKDF-Expand (RFC 5869): one block T(1) = HMAC(PRK, info | 0x01) covers 32 bytes.
  return createHmac('sha256', secret).update(info).update(Buffer.from([1])).digest().subarray(0, length);
}

/** The client's Initial keys for `version` and the first Initial's Destination Connection ID. */
export function clientInitialKeys(version: number, dcid: Uint8Array): InitialKeys | null {
  const v2 = version === QUIC_V2;
  if (!v2 && version !== QUIC_V1) return null;
  const initialSecret = createHmac('sha256', v2 ? SALT_V2 : SALT_V1).update(dcid).digest(); // HKDF-Extract
  const client = expandLabel(initialSecret, 'client in', 32);
  const prefix = v2 ? 'quicv2 ' : 'quic ';
  return { key: expandLabel(client, prefix + 'key', 16), iv: expandLabel(client, prefix + 'iv', 12), hp: expandLabel(client, prefix + 'hp', 16) };
}

/** A QUIC variable-length integer (RFC 9000 section 16) at `o`: [value, bytes], or null past `end`. */
function varint(buf: Uint8Array, o: number, end: number): [number, number] | null {
  if (o >= end) return null;
  const n = 1 << (buf[o]! >> 6);
  if (o + n > end) return null;
  let v = buf[o]! & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + buf[o + i]!;
  return [v, n];
}

export interface DecryptedInitial {
  version: number;
  dcid: Buffer;
  /** The plaintext frames. */
  payload: Buffer;
  /** Bytes of the datagram this packet took (coalesced packets follow). */
  length: number;
}

/**
 * Parses the long-header packet at [off, end): when it is a client Initial of v1 or v2 that
 * decrypts under `keys` (or, without them, under the keys of its own DCID), its plaintext.
 * Returns the packet's length alone (payload null) when it is another long-header packet, and
 * null when it is not a long-header packet at all.
 */
export function decryptInitial(buf: Uint8Array, off: number, end: number, keys?: InitialKeys): { packet: DecryptedInitial | null; length: number } | null {
  if (end - off < 7 || (buf[off]! & 0xc0) !== 0xc0) return null;
  const version = ((buf[off + 1]! << 24) | (buf[off + 2]! << 16) | (buf[off + 3]! << 8) | buf[off + 4]!) >>> 0;
  const type = (buf[off]! >> 4) & 3;
  const initial = (version === QUIC_V1 && type === 0) || (version === QUIC_V2 && type === 1);
  let o = off + 5;
  const dcidLen = buf[o++]!;
  if (dcidLen > 20 || o + dcidLen >= end) return null;
  const dcid = Buffer.from(buf.subarray(o, o + dcidLen));
  o += dcidLen;
  const scidLen = buf[o++]!;
  if (scidLen > 20 || o + scidLen > end) return null;
  o += scidLen;
  if (version !== QUIC_V1 && version !== QUIC_V2) return null; // other versions: lengths unknown
  if (initial) {
    const token = varint(buf, o, end);
    if (!token) return null;
    o += token[1] + token[0];
  } else if ((version === QUIC_V1 && type === 3) || (version === QUIC_V2 && type === 0)) {
    return null; // Retry packets have no Length field; nothing of a client's name follows them
  }
  const lenField = varint(buf, o, end);
  if (!lenField) return null;
  const pnOffset = o + lenField[1];
  const packetEnd = pnOffset + lenField[0];
  if (packetEnd > end || pnOffset + 4 + 16 > packetEnd) return null;
  const length = packetEnd - off;
  if (!initial) return { packet: null, length };
  const k = keys ?? clientInitialKeys(version, dcid);
  if (!k) return null;
  // Header protection (RFC 9001 section 5.4): a mask from AES-ECB over the 16-byte sample.
  const sample = buf.subarray(pnOffset + 4, pnOffset + 20);
  const mask = createCipheriv('aes-128-ecb', k.hp, null).update(sample);
  const first = buf[off]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  const header = Buffer.from(buf.subarray(off, pnOffset + pnLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    header[pnOffset - off + i] = buf[pnOffset + i]! ^ mask[1 + i]!;
    pn = pn * 256 + header[pnOffset - off + i]!;
  }
  const nonce = Buffer.from(k.iv);
  for (let i = 0; i < 6; i++) nonce[11 - i]! ^= Math.floor(pn / 2 ** (8 * i)) & 0xff;
  try {
    const d = createDecipheriv('aes-128-gcm', k.key, nonce);
    d.setAAD(header);
    d.setAuthTag(Buffer.from(buf.subarray(packetEnd - 16, packetEnd)));
    const payload = Buffer.concat([d.update(buf.subarray(pnOffset + pnLen, packetEnd - 16)), d.final()]);
    return { packet: { version, dcid, payload, length }, length };
  } catch {
    return { packet: null, length }; // not decryptable under these keys (a server Initial, or damage)
  }
}

/** The CRYPTO frames of a decrypted Initial's payload as (offset, data); stops at a frame an Initial may not carry. */
export function cryptoFrames(payload: Buffer): Array<{ offset: number; data: Buffer }> {
  const out: Array<{ offset: number; data: Buffer }> = [];
  let o = 0;
  const end = payload.length;
  while (o < end) {
    const type = payload[o]!;
    if (type === 0x00 || type === 0x01) {
      o++; // PADDING, PING
    } else if (type === 0x06) {
      const off = varint(payload, o + 1, end);
      if (!off) break;
      const len = varint(payload, o + 1 + off[1], end);
      if (!len) break;
      const start = o + 1 + off[1] + len[1];
      if (start + len[0] > end) break;
      out.push({ offset: off[0], data: payload.subarray(start, start + len[0]) });
      o = start + len[0];
    } else if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then (gap, length) pairs, then ECN counts
      let p = o + 1;
      const fields: number[] = [];
      for (let i = 0; i < 4; i++) {
        const v = varint(payload, p, end);
        if (!v) return out;
        fields.push(v[0]);
        p += v[1];
      }
      const extra = fields[2]! * 2 + (type === 0x03 ? 3 : 0);
      for (let i = 0; i < extra; i++) {
        const v = varint(payload, p, end);
        if (!v) return out;
        p += v[1];
      }
      o = p;
    } else break; // CONNECTION_CLOSE or a violation: nothing more to read
  }
  return out;
}

/** Bound on a gathered ClientHello (a handshake message of 64 KiB at most here). */
const MAX_HELLO = 65536;

/**
 * Gathers one flow's client CRYPTO stream from its Initial datagrams. `addDatagram` returns the
 * server name once the ClientHello is whole (null when it has none), undefined while incomplete.
 */
export class QuicCryptoAssembler {
  private keys: InitialKeys | null = null;
  private version = 0;
  private readonly chunks: Array<{ offset: number; data: Buffer }> = [];

  addDatagram(buf: Uint8Array, off: number, len: number): string | null | undefined {
    const end = off + len;
    let o = off;
    // Coalesced packets (RFC 9000 section 12.2): walk them by their Length fields.
    while (end - o >= 7) {
      const r = decryptInitial(buf, o, end, this.keys ?? undefined);
      if (!r) break;
      if (r.packet) {
        if (!this.keys) {
          // The keys stay those of the client's first Initial, whatever DCID later packets carry.
          this.version = r.packet.version;
          this.keys = clientInitialKeys(r.packet.version, r.packet.dcid);
        }
        for (const c of cryptoFrames(r.packet.payload)) if (c.offset + c.data.length <= MAX_HELLO) this.chunks.push({ offset: c.offset, data: Buffer.from(c.data) });
      }
      o += r.length;
    }
    return this.serverName();
  }

  /** The ClientHello's server name when the stream from offset 0 holds the whole message. */
  private serverName(): string | null | undefined {
    if (this.chunks.length === 0) return undefined;
    this.chunks.sort((a, b) => a.offset - b.offset);
    let have = 0;
    for (const c of this.chunks) {
      if (c.offset > have) break;
      have = Math.max(have, c.offset + c.data.length);
    }
    if (have < 4) return undefined;
    const stream = Buffer.alloc(have);
    for (const c of this.chunks) if (c.offset < have) c.data.copy(stream, c.offset, 0, Math.min(c.data.length, have - c.offset));
    if (stream[0] !== 1) return null; // not a ClientHello
    const need = 4 + ((stream[1]! << 16) | (stream[2]! << 8) | stream[3]!);
    if (need > MAX_HELLO) return null;
    if (have < need) return undefined;
    return tlsHandshakeServerName(stream, 0, need);
  }

  /** The QUIC version of the first decrypted Initial (0 before one). */
  get quicVersion(): number {
    return this.version;
  }
}
