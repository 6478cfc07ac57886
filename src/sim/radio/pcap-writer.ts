/**
 * Classic pcap writer (microsecond timestamps) that writes each record through to the file
 * descriptor at once, so a capture child killed by a signal leaves every frame it saw on disk.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_BLUETOOTH_LE_LL = 251;
export const LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR = 256;
export const LINKTYPE_NORDIC_BLE = 272;

export function pcapHeader(linkType: number, snaplen = 262144): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

export function pcapRecord(timeMs: number, data: Buffer): Buffer {
  const r = Buffer.alloc(16);
  const sec = Math.floor(timeMs / 1000);
  r.writeUInt32LE(sec, 0);
  r.writeUInt32LE(Math.round((timeMs - sec * 1000) * 1000) % 1000000, 4);
  r.writeUInt32LE(data.length, 8);
  r.writeUInt32LE(data.length, 12);
  return Buffer.concat([r, data]);
}

/** A whole pcap file in memory (fixtures). */
export function pcapFile(linkType: number, frames: { timeMs: number; data: Buffer }[]): Buffer {
  return Buffer.concat([pcapHeader(linkType), ...frames.map((f) => pcapRecord(f.timeMs, f.data))]);
}

export class PcapFileWriter {
  private fd: number | undefined;
  count = 0;
  /** Bytes of whole records (and the header) in the file. */
  private size = 24;
  constructor(file: string, linkType: number) {
    this.fd = openSync(file, 'wx');
    writeSync(this.fd, pcapHeader(linkType));
  }
  write(timeMs: number, data: Buffer): void {
    if (this.fd === undefined) return;
    const rec = pcapRecord(timeMs, data);
    try {
      let off = 0;
      while (off < rec.length) off += writeSync(this.fd, rec, off);
    } catch (e) {
      // A full disk: cut the torn record, so the file still reads whole up to the last frame.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the file keeps a torn last record; readers report it as damage at that offset
      }
      throw e;
    }
    this.size += rec.length;
    this.count++;
  }
  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}
