/**
 * Names carried by application protocols, read straight from packet bytes (written from the
 * published formats: RFC 1035 DNS, RFC 8446 TLS ClientHello + RFC 6066 server_name, RFC 9112
 * HTTP/1.1 Host, RFC 9000/9369 QUIC long headers). Hashes let the hot path skip building a
 * string when a flow repeats a name it already reported.
 */

/** FNV-1a over the lower-cased question name of the DNS message at `msg`; 0 when malformed. */
export function dnsQuestionHash(buf: Uint8Array, msg: number, end: number): number {
  if (end - msg < 17) return 0;
  let o = msg + 12;
  let h = 0x811c9dc5;
  let jumps = 0;
  let len = 0;
  for (;;) {
    if (o >= end) return 0;
    const l = buf[o]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      if (o + 1 >= end || ++jumps > 8) return 0;
      o = msg + (((l & 0x3f) << 8) | buf[o + 1]!);
      continue;
    }
    if (l > 63 || o + 1 + l > end) return 0;
    for (let i = o + 1; i <= o + l; i++) {
      let c = buf[i]!;
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, 0x01000193);
    }
    h = Math.imul(h ^ 46, 0x01000193);
    len += l + 1;
    if (len > 255) return 0;
    o += 1 + l;
  }
  return (h >>> 0) || 1;
}

/**
 * True when the question name of the DNS message at `msg` is `name` (lower case, dotted),
 * compared byte by byte without building a string.
 */
export function dnsQuestionIs(buf: Uint8Array, msg: number, end: number, name: string): boolean {
  if (end - msg < 17) return false;
  let o = msg + 12;
  let jumps = 0;
  let i = 0;
  for (;;) {
    if (o >= end) return false;
    const l = buf[o]!;
    if (l === 0) return i === name.length;
    if ((l & 0xc0) === 0xc0) {
      if (o + 1 >= end || ++jumps > 8) return false;
      o = msg + (((l & 0x3f) << 8) | buf[o + 1]!);
      continue;
    }
    if (l > 63 || o + 1 + l > end) return false;
    if (i > 0) {
      if (name.charCodeAt(i) !== 46) return false;
      i++;
    }
    if (i + l > name.length) return false;
    for (let k = o + 1; k <= o + l; k++) {
      let c = buf[k]!;
      if (c >= 65 && c <= 90) c += 32;
      if (name.charCodeAt(i++) !== c) return false;
    }
    o += 1 + l;
  }
}

const nameScratch = Buffer.alloc(256);

/** Bytes [start, end) of `buf` as latin1 text, without a Buffer view when `buf` already is one. */
function latin1(buf: Uint8Array, start: number, end: number): string {
  return (Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length)).toString('latin1', start, end);
}

/**
 * The question name of the DNS message at `msg` as text (`example.com`), or null when malformed.
 * `at` is where the question starts (the first one, at byte 12, unless given).
 */
export function dnsQuestionName(buf: Uint8Array, msg: number, end: number, at = msg + 12): string | null {
  if (end - msg < 17) return null;
  let o = at;
  let jumps = 0;
  let n = 0;
  const out = nameScratch;
  for (;;) {
    if (o >= end) return null;
    const l = buf[o]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      if (o + 1 >= end || ++jumps > 8) return null;
      o = msg + (((l & 0x3f) << 8) | buf[o + 1]!);
      continue;
    }
    if (l > 63 || o + 1 + l > end || n + l + 1 > 255) return null;
    if (n > 0) out[n++] = 46;
    for (let k = o + 1; k <= o + l; k++) {
      const c = buf[k]!;
      out[n++] = c >= 65 && c <= 90 ? c + 32 : c;
    }
    o += 1 + l;
  }
  return n === 0 ? '.' : out.toString('latin1', 0, n);
}

/**
 * Where the question after the one at `at` starts (past its name, type and class), or -1 when
 * the question runs past `end`. A message may carry several questions (RFC 1035 section 4.1.2).
 */
export function dnsNextQuestion(buf: Uint8Array, end: number, at: number): number {
  let o = at;
  for (;;) {
    if (o >= end) return -1;
    const l = buf[o]!;
    if (l === 0) {
      o += 1;
      break;
    }
    if ((l & 0xc0) === 0xc0) {
      o += 2;
      break;
    }
    if (l > 63) return -1;
    o += 1 + l;
  }
  return o + 4 <= end ? o + 4 : -1;
}

/** Bound on each intern table below (cleared when full, so memory stays flat). */
const INTERN_MAX = 4096;
const dnsInterned = new Map<number, string>();

/**
 * dnsQuestionName(), but the same name seen before is returned as the same string (found by
 * its hash, then checked byte for byte): most flows ask for names other flows asked for, and
 * not building a string per flow keeps the garbage collector out of the hot path.
 */
export function dnsQuestionNameInterned(buf: Uint8Array, msg: number, end: number): string | null {
  const h = dnsQuestionHash(buf, msg, end);
  if (h !== 0) {
    const known = dnsInterned.get(h);
    if (known !== undefined && dnsQuestionIs(buf, msg, end, known)) return known;
  }
  const name = dnsQuestionName(buf, msg, end);
  if (name !== null && h !== 0) {
    if (dnsInterned.size >= INTERN_MAX) dnsInterned.clear();
    dnsInterned.set(h, name);
  }
  return name;
}

/** Raw bytes (as latin1 text) -> lower-cased server name, by FNV-1a hash of the raw bytes. */
const sniInterned = new Map<number, { raw: string; name: string }>();

function internLower(buf: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  const known = sniInterned.get(h);
  if (known !== undefined && known.raw.length === end - start) {
    const raw = known.raw;
    let same = true;
    for (let i = start; i < end; i++) {
      if (raw.charCodeAt(i - start) !== buf[i]) {
        same = false;
        break;
      }
    }
    if (same) return known.name;
  }
  const raw = latin1(buf, start, end);
  const name = raw.toLowerCase();
  if (sniInterned.size >= INTERN_MAX) sniInterned.clear();
  sniInterned.set(h, { raw, name });
  return name;
}

/**
 * Length of the TLS handshake record that starts at `off` (5-byte header included), or 0 when
 * the bytes do not start a TLS handshake record carrying a ClientHello.
 */
export function tlsClientHelloRecordLength(buf: Uint8Array, off: number, len: number): number {
  if (len < 6) return 0;
  if (buf[off] !== 0x16 || buf[off + 1] !== 3 || buf[off + 2]! > 4 || buf[off + 5] !== 1) return 0;
  return 5 + ((buf[off + 3]! << 8) | buf[off + 4]!);
}

/** Server name of the complete ClientHello record at [off, off+len), or null when it has none. */
export function tlsServerName(buf: Uint8Array, off: number, len: number): string | null {
  return len < 5 ? null : tlsHandshakeServerName(buf, off + 5, len - 5);
}

/** Server name of the ClientHello handshake message at [off, off+len) (no record header; QUIC's CRYPTO stream), or null. */
export function tlsHandshakeServerName(buf: Uint8Array, off: number, len: number): string | null {
  const end = off + len;
  let o = off;
  if (o + 4 > end || buf[o] !== 1) return null;
  o += 4; // handshake type + length
  o += 2 + 32; // client version + random
  if (o >= end) return null;
  o += 1 + buf[o]!; // session id
  if (o + 2 > end) return null;
  o += 2 + ((buf[o]! << 8) | buf[o + 1]!); // cipher suites
  if (o >= end) return null;
  o += 1 + buf[o]!; // compression methods
  if (o + 2 > end) return null;
  const extEnd = Math.min(end, o + 2 + ((buf[o]! << 8) | buf[o + 1]!));
  o += 2;
  while (o + 4 <= extEnd) {
    const type = (buf[o]! << 8) | buf[o + 1]!;
    const elen = (buf[o + 2]! << 8) | buf[o + 3]!;
    o += 4;
    if (o + elen > extEnd) return null;
    if (type === 0) {
      // server_name_list: list length, then (type 0 = host_name, length, name)
      let p = o + 2;
      const listEnd = Math.min(o + elen, p + ((buf[o]! << 8) | buf[o + 1]!));
      while (p + 3 <= listEnd) {
        const nt = buf[p]!;
        const nl = (buf[p + 1]! << 8) | buf[p + 2]!;
        p += 3;
        if (p + nl > listEnd) return null;
        if (nt === 0) return internLower(buf, p, p + nl);
        p += nl;
      }
      return null;
    }
    o += elen;
  }
  return null;
}

const METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT '].map((m) => Buffer.from(m, 'latin1'));

/** True when the payload starts like an HTTP/1.x request line. */
export function looksLikeHttpRequest(buf: Uint8Array, off: number, len: number): boolean {
  const c = buf[off];
  if (len < 10 || c === undefined || c < 65 || c > 90) return false;
  outer: for (const m of METHODS) {
    if (m.length > len) continue;
    for (let i = 0; i < m.length; i++) if (buf[off + i] !== m[i]) continue outer;
    return true;
  }
  return false;
}

/** The Host header of the HTTP request in [off, off+len) (port removed), or null. */
export function httpHost(buf: Uint8Array, off: number, len: number): string | null {
  const text = Buffer.from(buf.buffer, buf.byteOffset + off, Math.min(len, 8192)).toString('latin1');
  const m = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(text);
  if (!m) return null;
  const h = m[1]!.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

const HOST_HEADER = /(?:^|\r\n)host:[ \t]*([^\r\n]*)/gi;

/**
 * Every Host header in [off, off+len) (ports removed, lower case): a kept-alive connection, a
 * pipeline or a proxy conversation names a host per request, and each one counts.
 */
export function httpHosts(buf: Uint8Array, off: number, len: number): string[] {
  const text = Buffer.from(buf.buffer, buf.byteOffset + off, len).toString('latin1');
  const out: string[] = [];
  HOST_HEADER.lastIndex = 0;
  for (let m = HOST_HEADER.exec(text); m !== null; m = HOST_HEADER.exec(text)) {
    const h = hostOnly(m[1]!);
    if (h && !out.includes(h)) out.push(h);
  }
  return out;
}

function hostOnly(value: string): string {
  const h = value.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/** True when the UDP payload is a QUIC v1 or v2 Initial packet (long header, Initial type). */
export function isQuicInitial(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 7) return false;
  const b = buf[off]!;
  if ((b & 0xc0) !== 0xc0) return false;
  const v = ((buf[off + 1]! << 24) | (buf[off + 2]! << 16) | (buf[off + 3]! << 8) | buf[off + 4]!) >>> 0;
  const type = (b >>> 4) & 3;
  if (v === 1) return type === 0;
  if (v === 0x6b3343cf) return type === 1;
  return false;
}
