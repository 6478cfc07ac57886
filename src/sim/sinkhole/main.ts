/**
 * The virtual rig's sinkhole child: runs inside the sinkhole namespace, where the virtual lab's
 * nftables ruleset redirects every TCP/UDP packet to it. The server is the one a real lab
 * gateway runs (src/devices/sinkhole/server.ts, `airlock sinkhole`).
 *
 * Control: JSON lines on stdin `{"service":"uplink","on":true}`, acknowledged on stdout.
 *   uplink on        : answer like the Internet (HTTP 200; complete TLS handshakes, then HTTP 200)
 *   update-server on : serve a firmware update offer at http://update.lab/ (any lab address)
 */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { SinkholeServer, type SinkholeService } from '../../devices/sinkhole/index.js';

const { values: opt } = parseArgs({
  options: {
    log: { type: 'string' },
    address: { type: 'string' },
    address6: { type: 'string' },
    'tcp-port': { type: 'string', default: '10001' },
    'udp-port': { type: 'string', default: '10002' },
    state: { type: 'string' },
    'max-records': { type: 'string', default: '20000' },
    'heartbeat-ms': { type: 'string' },
  },
});

const server = await SinkholeServer.start({
  logFile: opt.log!,
  address: opt.address!,
  address6: opt.address6,
  tcpPort: Number(opt['tcp-port']),
  udpPort: Number(opt['udp-port']),
  stateDir: opt.state,
  maxRecords: Number(opt['max-records']),
  ...(opt['heartbeat-ms'] ? { heartbeatMs: Number(opt['heartbeat-ms']) } : {}),
  // A full disk: tell the parent once (it reports a disk fault); the sinkhole keeps answering.
  onWriteError: (e) => process.stdout.write(JSON.stringify({ writeFailed: true, code: e.code, error: e.message }) + '\n'),
});
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');

const stop = (reason: string) => {
  void server.stop(reason).finally(() => process.exit(0));
};
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  try {
    const cmd = JSON.parse(line) as { service: SinkholeService; on: boolean };
    const services = server.setService(cmd.service, Boolean(cmd.on));
    process.stdout.write(JSON.stringify({ ok: true, services }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message }) + '\n');
  }
});
// The lab's owner holds our stdin: when it goes away, so do we.
rl.on('close', () => stop('the virtual lab closed'));
process.on('SIGTERM', () => stop('SIGTERM'));
