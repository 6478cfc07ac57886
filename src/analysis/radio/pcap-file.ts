/**
 * A small pcap / pcapng reader for radio captures (radiotap Wi-Fi, BLE link layer).
 *
 * Local on purpose, for now: the analysis folder's streaming reader (readCapture) was not yet
 * published through src/analysis/index.ts when this was written; radio captures are small
 * (beacons and advertisements, not bulk traffic), so reading the whole file is acceptable here.
 * Formats from the published specs (libpcap file format; pcapng IETF draft): both byte orders,
 * micro- and nanosecond pcap, pcapng SHB/IDB/EPB/SPB with if_tsresol.
 * A truncated last record is reported (`truncated`), not thrown.
 */
import { readFile } from 'node:fs/promises';

export interface RadioPacket {
  /** 1-based frame number, as Wireshark numbers frames. */
  index: number;
  /** Epoch milliseconds. */
  timeMs: number;
  linkType: number;
  data: Buffer;
}

export interface RadioCaptureFile {
  format: 'pcap' | 'pcapng';
  packets: RadioPacket[];
  truncated: boolean;
}

export class NotACaptureError extends Error {}

export async function readRadioCapture(file: string): Promise<RadioCaptureFile> {
  return parseRadioCapture(await readFile(file));
}

export function parseRadioCapture(buf: Buffer): RadioCaptureFile {
  if (buf.length < 4) throw new NotACaptureError('file too short for a capture header');
  const magicLE = buf.readUInt32LE(0);
  if (magicLE === 0x0a0d0d0a) return parsePcapng(buf);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    const be = buf.readUInt32BE(0);
    if (be !== 0xa1b2c3d4 && be !== 0xa1b23c4d) throw new NotACaptureError('not a pcap or pcapng file');
    le = false;
    nano = be === 0xa1b23c4d;
  }
  if (buf.length < 24) throw new NotACaptureError('truncated pcap header');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const packets: RadioPacket[] = [];
  let off = 24;
  let truncated = false;
  while (off < buf.length) {
    if (off + 16 > buf.length) {
      truncated = true;
      break;
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) {
      truncated = true;
      break;
    }
    packets.push({
      index: packets.length + 1,
      timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3),
      linkType,
      data: buf.subarray(off + 16, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return { format: 'pcap', packets, truncated };
}

function parsePcapng(buf: Buffer): RadioCaptureFile {
  const packets: RadioPacket[] = [];
  let le = true;
  let ifaces: { linkType: number; tsres: number }[] = [];
  let off = 0;
  let truncated = false;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  while (off < buf.length) {
    if (off + 12 > buf.length) {
      truncated = true;
      break;
    }
    const type = buf.readUInt32LE(off);
    if (type === 0x0a0d0d0a) {
      const bom = buf.readUInt32LE(off + 8);
      le = bom === 0x1a2b3c4d;
      ifaces = [];
    }
    const len = u32(off + 4);
    if (len < 12 || off + len > buf.length) {
      truncated = true;
      break;
    }
    const body = off + 8;
    const end = off + len - 4;
    if (type === 1) {
      // IDB: linktype u16, reserved u16, snaplen u32, options
      let tsres = 1e-6;
      let o = body + 8;
      while (o + 4 <= end) {
        const code = u16(o);
        const olen = u16(o + 2);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const v = buf[o + 4]!;
          tsres = v & 0x80 ? Math.pow(2, -(v & 0x7f)) : Math.pow(10, -v);
        }
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType: u16(body), tsres });
    } else if (type === 6) {
      const ifc = ifaces[u32(body)];
      const hi = u32(body + 4);
      const lo = u32(body + 8);
      const cap = u32(body + 12);
      const ts = (hi * 4294967296 + lo) * (ifc?.tsres ?? 1e-6);
      packets.push({ index: packets.length + 1, timeMs: ts * 1000, linkType: ifc?.linkType ?? 0, data: buf.subarray(body + 20, body + 20 + cap) });
    } else if (type === 3) {
      const ifc = ifaces[0];
      const orig = u32(body);
      const cap = Math.min(orig, end - body - 4);
      packets.push({ index: packets.length + 1, timeMs: 0, linkType: ifc?.linkType ?? 0, data: buf.subarray(body + 4, body + 4 + cap) });
    }
    off += len;
  }
  return { format: 'pcapng', packets, truncated };
}
