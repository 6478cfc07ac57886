/**
 * The reader and the scan on fixtures made by text2pcap / editcap / mergecap (see
 * test/fixtures/analysis/generate.ts), each checked against what tshark reads from the same file.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture, scanCaptures } from '../../src/analysis/index.js';
import { analyzeCommand } from '../../src/cli/commands/analyze.js';
import { memoryIO } from '../../src/cli/io.js';
import { tshark, tsharkAsync } from './lab-net.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/analysis');
const fx = (name: string): string => path.join(dir, name);
const LAB = ['10.9.0.0/24', '2001:db8:9::/64'];

/** Every fixture carrying the common traffic, with the link types its header(s) declare. */
const COMMON: [string, number[]][] = [
  ['eth-le.pcap', [1]],
  ['eth-be.pcap', [1]],
  ['eth-ns-le.pcap', [1]],
  ['eth-ns-be.pcap', [1]],
  ['eth-le.pcapng', [1]],
  ['eth-be.pcapng', [1]],
  ['eth-ns.pcapng', [1]],
  ['sll.pcap', [113]],
  ['sll2.pcap', [276]],
  ['raw101.pcap', [101]],
  ['raw12.pcap', [12]],
  ['raw14.pcap', [14]],
  ['ipv4-228.pcap', [228]],
  ['ipv6-229.pcapng', [229]],
  ['multi-if.pcapng', [1, 276]],
  ['two-sections.pcapng', [1, 276]],
];

describe.concurrent('capture reader against tshark', () => {
  for (const [name, linkTypes] of [...COMMON, ['radiotap.pcap', [127]] as [string, number[]], ['fragments.pcap', [1]] as [string, number[]]]) {
    it(`${name}: same frames, times and lengths as tshark`, async () => {
      const expected = await tsharkAsync(fx(name), 'frame', ['frame.number', 'frame.time_epoch', 'frame.cap_len', 'frame.len']);
      const seen: string[][] = [];
      const info = await readCapture(fx(name), (p) => {
        const ns = String(p.nsec).padStart(9, '0');
        seen.push([String(p.index), `${p.sec}.${ns}`, String(p.caplen), String(p.origLen)]);
      });
      expect(info.damage).toBeUndefined();
      expect(info.linkTypes).toEqual(linkTypes);
      expect(info.packets).toBe(expected.length);
      expect(seen).toEqual(expected);
    });
  }

  it('reads the same with tiny buffers (records across buffer and read-ahead boundaries)', async () => {
    const files = [...COMMON.map(([n]) => n), 'fragments.pcap', 'damaged-truncated.pcap', 'damaged-truncated.pcapng', 'damaged-trailer.pcapng'];
    for (const name of files) {
      const read = async (bufferSize?: number) => {
        const rows: string[] = [];
        const info = await readCapture(fx(name), (p) => void rows.push(`${p.index} ${p.sec}.${p.nsec} ${p.fileOffset} ${p.frame().toString('hex')}`), { bufferSize });
        return { rows, damage: info.damage };
      };
      const normal = await read();
      for (const size of [64, 100, 256, 1000]) expect(await read(size), `${name} with a ${size}-byte buffer`).toEqual(normal);
    }
  });

  it('stops early when the callback returns false', async () => {
    let n = 0;
    const info = await readCapture(fx('eth-le.pcap'), () => ++n < 3);
    expect(n).toBe(3);
    expect(info.stopped).toBe(true);
  });

  it('gives each radiotap frame to the radio hook and judges none', async () => {
    const frames: number[] = [];
    const scan = await scanCaptures([fx('radiotap.pcap')], { lab: LAB, onRadio: (p) => void frames.push(p.frame()[8]!) });
    expect(frames).toEqual([0x80, 0x80]); // beacon frame control, after the 8-byte radiotap header
    expect(scan.files[0]!.radiotap).toBe(2);
    expect(scan.verdict).toBe('PASS');
  });
});

describe.concurrent('egress findings on every link type and byte order', () => {
  for (const [name] of COMMON) {
    it(`${name}: outside addresses and first packets equal tshark's`, async () => {
      const scan = await scanCaptures([fx(name)], { lab: LAB });
      const rows = await tsharkAsync(
        fx(name),
        '(ip && !(ip.src == 10.9.0.0/24 && ip.dst == 10.9.0.0/24) && !(ip.dst == 255.255.255.255 || ip.dst == 224.0.0.0/24 || ip.dst == 239.0.0.0/8))' +
          ' || (ipv6 && !(ipv6.src == 2001:db8:9::/64 && ipv6.dst == 2001:db8:9::/64) && !(ipv6.dst == fe80::/10 || ipv6.dst == ff02::/16))',
        ['frame.number', 'ip.dst', 'ipv6.dst'],
      );
      const expected = new Map<string, number>();
      for (const [frame, d4, d6] of rows) {
        const dst = d4 || d6!;
        if (!dst.startsWith('10.9.0.') && !expected.has(dst)) expected.set(dst, Number(frame));
      }
      const got = new Map<string, number>();
      for (const f of scan.findings.filter((f) => f.reason !== 'dns-name' && f.name !== 'vendor.example')) {
        got.set(f.dst, Math.min(got.get(f.dst) ?? Infinity, f.packet));
      }
      expect(got).toEqual(expected);
      // The DNS name leaves through the lab resolver: one finding, at tshark's query frame.
      const queries = await tsharkAsync(fx(name), 'dns.flags.response == 0 && !(dns.qry.name matches "\\\\.local$")', ['frame.number', 'dns.qry.name']);
      const dns = scan.findings.filter((f) => f.name === 'vendor.example');
      if (queries.length > 0) {
        expect(dns.map((f) => [f.packet, f.name])).toEqual([[Number(queries[0]![0]), queries[0]![1]]]);
        expect(dns[0]!.count).toBe(queries.length);
      } else expect(dns).toEqual([]);
      expect(scan.verdict).toBe('FAIL');
    });
  }

  it('groups a flow: both directions of the TCP handshake are one finding', async () => {
    const scan = await scanCaptures([fx('eth-le.pcap')], { lab: LAB });
    const tcp = scan.findings.find((f) => f.dst === '203.0.113.7')!;
    expect(tcp).toMatchObject({ kind: 'network', packet: 2, lastPacket: 3, count: 2, src: '10.9.0.2', srcPort: 40000, dstPort: 443, protocol: 'tcp', reason: 'egress' });
    expect(tcp.time).toBe(new Date(Number(tshark(fx('eth-le.pcap'), 'frame.number == 2', ['frame.time_epoch'])[0]![0]) * 1000).toISOString());
    const dns = scan.findings.find((f) => f.name === 'vendor.example')!;
    expect(dns).toMatchObject({ reason: 'attempt', protocol: 'dns', dst: '10.9.0.1', dstPort: 53 });
    expect(scan.flows.find((f) => f.dst === '224.0.0.251')).toMatchObject({ inLab: true, name: 'drone.local' });
  });

  it('non-first IPv4 fragments join their first fragment; IPv6 extension headers are walked', async () => {
    const scan = await scanCaptures([fx('fragments.pcap')], { lab: LAB });
    const v4 = tshark(fx('fragments.pcap'), 'ip.dst == 198.51.100.9', ['frame.number']).map(([n]) => Number(n));
    expect(scan.findings.find((f) => f.dst === '198.51.100.9')).toMatchObject({ packet: v4[0], lastPacket: v4.at(-1), count: v4.length, srcPort: 7000, dstPort: 7001 });
    const [[v6frame, v6port]] = tshark(fx('fragments.pcap'), 'ipv6.dst == 2001:db8:ffff::2', ['frame.number', 'udp.dstport']) as [[string, string]];
    expect(scan.findings.find((f) => f.dst === '2001:db8:ffff::2')).toMatchObject({ packet: Number(v6frame), dstPort: Number(v6port) });
  });

  it('reads the TLS server name across segments and the HTTP Host', async () => {
    const scan = await scanCaptures([fx('tls-split.pcap')], { lab: LAB });
    const [[sni]] = tshark(fx('tls-split.pcap'), 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name']) as [[string]];
    expect(scan.findings.find((f) => f.dstPort === 443)).toMatchObject({ protocol: 'tls', name: sni, packet: 1, count: 4 });
    expect(scan.findings.find((f) => f.dstPort === 80)).toMatchObject({ protocol: 'http', name: 'maps.vendor.example', reason: 'attempt' });
  });

  it('judges only packets inside the time window', async () => {
    const t = (n: number) => Number(tshark(fx('eth-le.pcap'), `frame.number == ${n}`, ['frame.time_epoch'])[0]![0]) * 1000;
    const scan = await scanCaptures([fx('eth-le.pcap')], { lab: LAB, fromMs: t(5) - 0.1, toMs: t(8) - 0.1 });
    expect(scan.verdict).toBe('PASS');
    const late = await scanCaptures([fx('eth-le.pcap')], { lab: LAB, fromMs: t(3) - 0.1, toMs: t(4) - 0.1 });
    expect(late.findings.map((f) => [f.packet, f.count])).toEqual([[3, 1]]);
  });
});

describe('damaged captures', () => {
  /** Byte offset of record `k` (1-based) of a classic pcap, from tshark's captured lengths. */
  const pcapRecordOffset = (file: string, k: number): number =>
    tshark(file, `frame.number < ${k}`, ['frame.cap_len']).reduce((o, [len]) => o + 16 + Number(len), 24);

  it.each([
    ['damaged-truncated.pcap', 5],
    ['damaged-length.pcap', 3],
  ])('%s: read up to the damage, offset of record %i named', async (name, record) => {
    const scan = await scanCaptures([fx(name)], { lab: LAB });
    const frames = tshark(fx(name), 'frame', ['frame.number']).length;
    expect(scan.packets).toBe(frames);
    expect(scan.damage).toHaveLength(1);
    expect(scan.damage[0]!.offset).toBe(pcapRecordOffset(fx('eth-le.pcap'), record));
  });

  it.each([
    // the 9th packet block starts after SHB, IDB and 8 packet blocks (sizes from the file's own block lengths, checked by hand with xxd)
    ['damaged-truncated.pcapng', 8, 1060],
    ['damaged-trailer.pcapng', 1, 380],
  ])('%s: stops at the damaged block', async (name, packets, offset) => {
    const scan = await scanCaptures([fx(name)], { lab: LAB });
    expect(scan.packets).toBe(packets);
    expect(scan.packets).toBe(tshark(fx(name), 'frame', ['frame.number']).length);
    expect(scan.damage.map((d) => d.offset)).toEqual([offset]);
  });

  it('damage without findings is INCONCLUSIVE (exit 3, offset in the message); findings still FAIL', async () => {
    const io = memoryIO();
    expect(await analyzeCommand({ files: [fx('damaged-trailer.pcapng')], lab: LAB, json: false }, io)).toBe(3);
    expect(io.stdout.join('\n')).toContain('damaged at byte offset 380');
    const io2 = memoryIO();
    expect(await analyzeCommand({ files: [fx('empty.pcap')], lab: LAB, json: true }, io2)).toBe(3);
    expect(JSON.parse(io2.stdout[0]!)).toMatchObject({ verdict: 'INCONCLUSIVE', damage: [{ offset: 0 }] });
    const io3 = memoryIO();
    expect(await analyzeCommand({ files: [fx('damaged-truncated.pcap')], lab: LAB, json: true }, io3)).toBe(1);
    expect(io3.stderr.join('\n')).toMatch(/damaged at byte offset 333/);
  });
});

describe('airlock analyze', () => {
  it('--json prints one document with the contract fields; exit 1 on findings', async () => {
    const io = memoryIO();
    const code = await analyzeCommand({ files: [fx('eth-le.pcap')], lab: LAB, json: true }, io);
    expect(code).toBe(1);
    expect(io.stdout).toHaveLength(1);
    const doc = JSON.parse(io.stdout[0]!);
    expect(doc.verdict).toBe('FAIL');
    for (const f of doc.findings) {
      for (const k of ['kind', 'file', 'packet', 'time', 'src', 'dst', 'protocol', 'summary']) expect(f).toHaveProperty(k);
    }
    expect(doc.findings.find((f: { dst: string }) => f.dst === '203.0.113.7')).toMatchObject({ srcPort: 40000, dstPort: 443 });
  });

  it('exit 0 when nothing left the lab; a readable table otherwise', async () => {
    const io = memoryIO();
    expect(await analyzeCommand({ files: [fx('eth-le.pcap')], lab: ['0.0.0.0/0', '::/0'], labNames: ['vendor.example'], json: false }, io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^PASS: 0 finding/);
    const io2 = memoryIO();
    await analyzeCommand({ files: [fx('tls-split.pcap')], lab: LAB, json: false }, io2);
    expect(io2.stdout.join('\n')).toMatch(/PACKET.*DESTINATION[\s\S]*203\.0\.113\.50:443\s+telemetry\.vendor\.example/);
  });

  it('bad input is an InputError (exit 2 at the CLI) with a one-line message', async () => {
    const cases: [Partial<Parameters<typeof analyzeCommand>[0]>, RegExp][] = [
      [{ files: [fx('missing.pcap')] }, /missing\.pcap: cannot open capture \(ENOENT\)/],
      [{ files: [fx('not-a-capture.pcap')] }, /not a pcap or pcapng capture/],
      [{ files: [fx('eth-le.pcap')], lab: ['10.9.0.0/33'] }, /bad lab CIDR "10\.9\.0\.0\/33"/],
      [{ files: [fx('eth-le.pcap')], lab: ['lab.example'] }, /bad lab CIDR/],
      [{ files: [fx('eth-le.pcap')], catalogue: fx('missing.yaml') }, /cannot read the endpoint catalogue/],
    ];
    for (const [opts, message] of cases) {
      const err = await analyzeCommand({ files: [], lab: LAB, json: false, ...opts }, memoryIO()).catch((e: unknown) => e);
      expect(err).toMatchObject({ category: 'input', message: expect.stringMatching(message) });
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
