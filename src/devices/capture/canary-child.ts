/**
 * One canary injection point: the process that sends canaries from where a device's traffic
 * goes. CanarySender starts it inside a device's namespace (virtual rig), on Airlock's own host
 * (a host interface on the lab network) or on a lab-side Linux host over SSH (`airlock
 * canary-helper`): the same code in every wiring.
 *
 * Protocol: the settings, including the per-run secret, arrive as one JSON line on stdin (never
 * argv: a firmware could read our command line). Every `intervalMs`, and on a line "send", it
 * sends one round: for each target (lab, outside) one canary per protocol (UDP, TCP SYN, ICMP
 * echo, DNS query), printing each as a JSON line once the kernel took it, and a JSON line with
 * `error` for one that could not be sent. stdin closing or SIGTERM ends it.
 *
 * UDP and DNS canaries leave from a UDP socket bound to the source address, so the replies the
 * lab gateway sends back are taken by the kernel quietly; TCP SYN and ICMP canaries are built
 * whole (canary-packets.ts) and sent from a raw socket (root), optionally bound to an interface.
 * With an IPv6 source and targets, every round goes over IPv6 as well (ICMPv6 echo for ICMP), on
 * sockets of their own.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { CANARY_PORT, CANARY_PROTOCOLS, canaryDnsName, dnsCanaryPossible, encodeCanary, type Canary, type CanaryProtocol } from '../../analysis/canary.js';
import { dnsQuery, icmpEcho, tcpSyn } from './canary-packets.js';

/** How long the UDP socket stays open after the last round. */
export const LINGER_MS = 2000;

export interface CanaryChildSettings {
  runId: string;
  /** The injection point's name (a device host on the virtual rig). */
  host: string;
  secret: string;
  /** IPv4 address to send from (an address of this host on the lab network). */
  source: string;
  /** Network interface the raw socket is bound to (SO_BINDTODEVICE). */
  interface?: string;
  targets: { lab: string; outside: string };
  /** IPv6 address to send from, where the lab network carries IPv6: each round is sent over IPv6 too. */
  source6?: string;
  /** IPv6 targets (with source6). */
  targets6?: { lab: string; outside: string };
  protocols?: CanaryProtocol[];
  /** 0 = only on "send". */
  intervalMs: number;
}

/** What the child prints for each canary it sent. */
export interface SentCanaryLine {
  host: string;
  seq: number;
  target: 'lab' | 'outside';
  protocol: CanaryProtocol;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  sentAtMs: number;
}

interface RawModule {
  createSocket(o: { protocol: number; addressFamily?: number }): import('raw-socket').Socket;
  AddressFamily: { IPv4: number; IPv6: number };
  SocketLevel: { SOL_SOCKET: number };
  SocketOption: { SO_BINDTODEVICE: number };
}

export async function runCanaryChild(input: Readable, output: Writable): Promise<void> {
  const print = (o: object) => output.write(JSON.stringify(o) + '\n');
  const rl = readline.createInterface({ input });
  let s: CanaryChildSettings | undefined;
  /** One UDP socket and one raw socket per address family (index 0: IPv4, 1: IPv6). */
  const udp: Array<dgram.Socket | undefined> = [];
  const udpPort = [0, 0];
  const raw: Array<import('raw-socket').Socket | undefined> = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;

  const send = async (family: 0 | 1, target: 'lab' | 'outside', protocol: CanaryProtocol): Promise<void> => {
    const st = s!;
    const dst = family === 0 ? st.targets[target] : st.targets6![target];
    const source = family === 0 ? st.source : st.source6!;
    const c: Canary = { runId: st.runId, host: st.host, seq: ++seq, sentAtMs: Date.now(), target, protocol };
    let srcPort: number;
    let dstPort: number;
    let done: Promise<void>;
    if (protocol === 'udp' || protocol === 'dns') {
      srcPort = udpPort[family]!;
      dstPort = protocol === 'udp' ? CANARY_PORT : 53;
      const b = { src: source, dst, srcPort, dstPort };
      const bytes = protocol === 'udp' ? encodeCanary(st.secret, c, b) : dnsQuery(randomInt(65536), canaryDnsName(st.secret, c, b));
      done = new Promise((resolve, reject) => udp[family]!.send(bytes, dstPort, dst, (err) => (err ? reject(err) : resolve())));
    } else {
      // TCP: a fresh ephemeral-range port per SYN; ICMP: the echo identifier and sequence.
      srcPort = protocol === 'tcp' ? randomInt(32768, 61000) : randomInt(1, 65536);
      dstPort = protocol === 'tcp' ? CANARY_PORT : c.seq & 0xffff;
      const b = { src: source, dst, srcPort, dstPort };
      const payload = encodeCanary(st.secret, c, b);
      const pkt = protocol === 'tcp' ? tcpSyn(source, dst, srcPort, dstPort, randomInt(2 ** 32), payload) : icmpEcho(source, dst, srcPort, dstPort, payload);
      done = new Promise((resolve, reject) => raw[family]!.send(pkt, 0, pkt.length, dst, (err) => (err ? reject(err) : resolve())));
    }
    try {
      await done;
      const line: SentCanaryLine = { host: st.host, seq: c.seq, target, protocol, src: source, dst, srcPort, dstPort, sentAtMs: c.sentAtMs };
      print(line);
    } catch (error) {
      print({ error: `${protocol} canary #${c.seq} to ${dst}: ${(error as Error).message}`, protocol, target, seq: c.seq });
    }
  };

  const round = async (): Promise<void> => {
    const st = s!;
    const protocols = (st.protocols ?? [...CANARY_PROTOCOLS]).filter((p) => p !== 'dns' || dnsCanaryPossible(st));
    const sends: Promise<void>[] = [];
    const families: Array<0 | 1> = st.source6 && st.targets6 ? [0, 1] : [0];
    for (const family of families) for (const target of ['lab', 'outside'] as const) for (const p of protocols) sends.push(send(family, target, p));
    await Promise.all(sends);
    print({ round: seq });
  };

  const start = async (line: string): Promise<void> => {
    s = JSON.parse(line) as CanaryChildSettings;
    const protocols = s.protocols ?? [...CANARY_PROTOCOLS];
    const st = s;
    const sources = st.source6 && st.targets6 ? [st.source, st.source6] : [st.source];
    for (const [family, source] of sources.entries()) {
      const sock = dgram.createSocket(family === 0 ? 'udp4' : 'udp6');
      udp[family] = sock;
      sock.on('error', (e) => print({ error: `udp socket: ${e.message}` }));
      sock.on('message', () => undefined); // the gateway's answers: taken and dropped
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(0, source, () => resolve());
      });
      udpPort[family] = sock.address().port;
      if (protocols.includes('tcp') || protocols.includes('icmp')) {
        const mod = (await import('raw-socket')) as unknown as RawModule & { default?: RawModule };
        const rawMod = mod.default ?? mod;
        // IPPROTO_RAW: we write the IP header (IPv4 or IPv6), the kernel only routes.
        const r = rawMod.createSocket({ protocol: 255, addressFamily: family === 0 ? rawMod.AddressFamily.IPv4 : rawMod.AddressFamily.IPv6 });
        raw[family] = r;
        r.on('error', (e: Error) => print({ error: `raw socket: ${e.message}` }));
        if (st.interface) {
          const name = Buffer.from(st.interface + '\0');
          r.setOption(rawMod.SocketLevel.SOL_SOCKET, rawMod.SocketOption.SO_BINDTODEVICE, name, name.length);
        }
      }
    }
    if (s.intervalMs > 0) timer = setInterval(() => void round(), s.intervalMs);
    print({ ready: true });
    await round();
  };

  const queue: string[] = [];
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0) {
        const line = queue.shift()!;
        if (!s) await start(line);
        else if (line.trim() === 'send') await round();
      }
    } catch (error) {
      print({ fatal: (error as Error).message });
      process.exitCode = 1;
      rl.close();
    } finally {
      busy = false;
    }
  };
  rl.on('line', (line) => {
    queue.push(line);
    void pump();
  });
  await new Promise<void>((resolve) => rl.once('close', resolve));
  clearInterval(timer);
  // The gateway's answers to the last round may still be on their way: a closed socket would
  // make the kernel send port-unreachable errors to the outside address, which is egress.
  await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
  for (const u of udp) u?.close();
  for (const r of raw) r?.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('SIGTERM', () => process.exit(0));
  void runCanaryChild(process.stdin, process.stdout).then(() => process.exit(process.exitCode ?? 0));
}
