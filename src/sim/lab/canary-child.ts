/**
 * Canary sender inside one lab namespace (started by CanarySender with `ip netns exec`).
 * Reads its settings, including the per-run secret, as one JSON line on stdin (never argv:
 * a firmware could read our command line), then every `intervalMs` sends one canary to the
 * lab target and one to the outside target, printing each as a JSON line once sent.
 * A line "send" on stdin sends a round at once; stdin closing or SIGTERM ends it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';
import { CANARY_PORT, encodeCanary } from '../../analysis/canary.js';

interface Settings {
  runId: string;
  host: string;
  secret: string;
  labTarget: string;
  outsideTarget: string;
  intervalMs: number;
}

const rl = readline.createInterface({ input: process.stdin });
let settings: Settings | undefined;
let seq = 0;
const sockets: Record<4 | 6, dgram.Socket | undefined> = { 4: undefined, 6: undefined };

function sock(dst: string): dgram.Socket {
  const fam = net.isIPv6(dst) ? 6 : 4;
  let s = sockets[fam];
  if (!s) {
    s = dgram.createSocket(fam === 6 ? 'udp6' : 'udp4');
    s.on('error', (e) => process.stderr.write(`canary socket: ${e.message}\n`));
    sockets[fam] = s;
  }
  return s;
}

function round(): void {
  const s = settings!;
  for (const [target, dst] of [['lab', s.labTarget], ['outside', s.outsideTarget]] as const) {
    const c = { runId: s.runId, host: s.host, seq: ++seq, sentAtMs: Date.now(), target };
    sock(dst).send(encodeCanary(s.secret, c), CANARY_PORT, dst, (err) => {
      if (err) process.stderr.write(`canary ${c.seq}: ${err.message}\n`);
      else process.stdout.write(JSON.stringify({ host: c.host, seq: c.seq, target, dst, dstPort: CANARY_PORT, sentAtMs: c.sentAtMs }) + '\n');
    });
  }
}

rl.on('line', (line) => {
  if (!settings) {
    settings = JSON.parse(line) as Settings;
    if (settings.intervalMs > 0) setInterval(round, settings.intervalMs);
    process.stdout.write(JSON.stringify({ ready: true }) + '\n');
    round();
  } else if (line.trim() === 'send') round();
});
rl.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
