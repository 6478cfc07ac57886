/**
 * One live network capture, as its own process (run inside the lab namespace with
 * `ip netns exec`): libpcap through the `pcap` package, and a classic pcap file written here,
 * because node_pcap's own dump file is never flushed. Buffered records are written and the
 * file fsynced at least every second, so a crash loses at most about a second.
 *
 * Hand-written hot path (docs/developer/conventions.md 9): one preallocated output buffer, each packet copied in
 * as 16-byte record header + bytes, no per-packet allocation.
 *
 * Protocol with the parent, JSON lines on stdout:
 *   {"ready":true,"linktype":1}            once libpcap is capturing
 *   {"records":N,"bytes":B}                 every second
 *   {"final":true,"records":N,"ps_recv":..,"ps_drop":..,"ps_ifdrop":..}  on SIGTERM, then exit 0
 *   {"rotated":true,"file":PATH,"index":K}  a new part was started (--rotate-bytes / --rotate-ms)
 * Rotation (rig file `captures.rotate`): the file rolls over between two packets into numbered
 * parts, net-x.pcap, net-x.1.pcap, net-x.2.pcap ...: the buffer is written and fsynced into
 * the old part before the new one is opened, so no packet is lost or split at the boundary.
 * Stopping never waits for a packet: node_pcap's close() only returns after the next packet,
 * so on SIGTERM we read the stats, drain what libpcap already holds, flush and exit.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pcap from 'pcap';

const { values } = parseArgs({
  options: {
    iface: { type: 'string' },
    file: { type: 'string' },
    filter: { type: 'string', default: '' },
    'buffer-size': { type: 'string', default: String(32 * 1024 * 1024) },
    snaplen: { type: 'string', default: '262144' },
    'rotate-bytes': { type: 'string', default: '0' },
    'rotate-ms': { type: 'string', default: '0' },
  },
});

const LINKTYPES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
};

function say(obj: object): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const snaplen = Number(values.snaplen);
let session: pcap.PcapSession;
try {
  session = pcap.createSession(values.iface!, {
    filter: values.filter ?? '',
    buffer_size: Number(values['buffer-size']),
    snap_length: snaplen,
    buffer_timeout: 200,
    promiscuous: true,
  });
} catch (e) {
  say({ error: (e as Error).message });
  process.exit(1);
}
const linktype = LINKTYPES[session.link_type] ?? 1;

const rotateBytes = Number(values['rotate-bytes']);
const rotateMs = Number(values['rotate-ms']);
/** Part k of the capture: the file itself, then net-x.1.pcap, net-x.2.pcap ... */
const partFile = (k: number) => (k === 0 ? values.file! : values.file!.replace(/(\.pcap)?$/, `.${k}.pcap`));
let part = 0;
let partStartMs = Date.now();

let fd: number;
try {
  fd = fs.openSync(values.file!, 'w');
} catch (e) {
  say({ error: (e as Error).message });
  process.exit(1);
}
const out = Buffer.allocUnsafe(4 * 1024 * 1024);
let used = 0;
let records = 0;
let bytes = 24;
/** Bytes of whole records on disk in the current part (the header included). */
let written = 24;

const gh = Buffer.alloc(24);
gh.writeUInt32LE(0xa1b2c3d4, 0);
gh.writeUInt16LE(2, 4);
gh.writeUInt16LE(4, 6);
gh.writeUInt32LE(snaplen, 16);
gh.writeUInt32LE(linktype, 20);
fs.writeSync(fd, gh);
fs.fsyncSync(fd);

function flush(sync: boolean): void {
  try {
    if (used > 0) {
      let off = 0;
      while (off < used) off += fs.writeSync(fd, out, off, used - off);
      written += used;
      used = 0;
    }
    if (sync) fs.fsyncSync(fd);
  } catch (e) {
    // A full disk: cut what this flush wrote in part, so every whole record written before
    // stays readable; say why and stop, so the parent reports a fault, not a crash.
    try {
      fs.ftruncateSync(fd, written);
    } catch {
      // the file keeps a torn last record; readers report it as damage at that offset
    }
    say({ error: (e as Error).message, code: (e as NodeJS.ErrnoException).code, writeFailed: true, records });
    process.exit(1);
  }
}

/** Ends the current part (written and fsynced) and starts the next, between two packets. */
function rotate(): void {
  flush(true);
  fs.closeSync(fd);
  part++;
  const file = partFile(part);
  try {
    fd = fs.openSync(file, 'w');
    fs.writeSync(fd, gh);
    fs.fsyncSync(fd);
  } catch (e) {
    say({ error: (e as Error).message, code: (e as NodeJS.ErrnoException).code, writeFailed: true, records });
    process.exit(1);
  }
  written = 24;
  bytes += 24;
  partStartMs = Date.now();
  say({ rotated: true, file, index: part });
}

session.on('packet', (p: { buf: Buffer; header: Buffer }) => {
  const caplen = p.header.readUInt32LE(8);
  // A part holds at least one packet; past the size limit the next packet opens a new part.
  if (rotateBytes > 0 && written + used > 24 && written + used + 16 + caplen > rotateBytes) rotate();
  if (used + 16 + caplen > out.length) flush(false);
  p.header.copy(out, used, 0, 16);
  p.buf.copy(out, used + 16, 0, caplen);
  used += 16 + caplen;
  records++;
  bytes += 16 + caplen;
});

const tick = setInterval(() => {
  if (rotateMs > 0 && Date.now() - partStartMs >= rotateMs && written + used > 24) rotate();
  flush(true);
  say({ records, bytes });
}, 500);

function stop(): void {
  clearInterval(tick);
  // Drain what libpcap already holds (non-blocking dispatch: returns 0 when empty).
  const inner = (session as unknown as { session: { dispatch(b: Buffer, h: Buffer): number }; buf: Buffer; header: Buffer });
  try {
    for (let i = 0; i < 10_000_000 && inner.session.dispatch(inner.buf, inner.header) > 0; i++);
  } catch {
    /* session already broken: what we have is what we have */
  }
  const st = session.stats();
  flush(true);
  fs.closeSync(fd);
  say({ final: true, records, bytes, ps_recv: st.ps_recv, ps_drop: st.ps_drop, ps_ifdrop: st.ps_ifdrop });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
say({ ready: true, linktype, pid: process.pid });
