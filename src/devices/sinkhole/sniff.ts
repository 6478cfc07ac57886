/** Names a client reveals in its first bytes: the TLS server name (SNI) or the HTTP Host header. */

export function isTlsHello(b: Buffer): boolean {
  return b.length >= 6 && b[0] === 0x16 && b[1] === 0x03 && b[5] === 0x01;
}

export function isHttp(b: Buffer): boolean {
  return /^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT) /.test(b.toString('latin1', 0, 8));
}

/** The server_name of a TLS ClientHello record, or undefined. */
export function tlsServerName(b: Buffer): string | undefined {
  try {
    let off = 5 + 4 + 2 + 32; // record header, handshake header, version, random
    off += 1 + b[off]!; // session id
    off += 2 + b.readUInt16BE(off); // cipher suites
    off += 1 + b[off]!; // compression methods
    const extEnd = off + 2 + b.readUInt16BE(off);
    off += 2;
    while (off + 4 <= extEnd && off + 4 <= b.length) {
      const type = b.readUInt16BE(off);
      const len = b.readUInt16BE(off + 2);
      if (type === 0) {
        const nameLen = b.readUInt16BE(off + 7);
        return b.toString('latin1', off + 9, off + 9 + nameLen);
      }
      off += 4 + len;
    }
  } catch {
    /* a truncated or malformed hello reads past the buffer (RangeError): no name is known, said by undefined */
  }
  return undefined;
}

export function httpHost(b: Buffer): string | undefined {
  const m = /\r\nhost:\s*([^\r\n:]+)/i.exec(b.toString('latin1', 0, Math.min(b.length, 4096)));
  return m?.[1]?.toLowerCase();
}
