/**
 * `airlock sinkhole`: Airlock's sinkhole as a service on the box that is a real lab's gateway
 * (docs/technician/proof-of-sight.md). It answers DNS with its own address, accepts any TCP
 * connection and UDP datagram nftables redirects to it, logs each with its original destination,
 * and never forwards (checked at start, and again for every heartbeat, which logs it). Runs until SIGTERM or SIGINT, then writes its stop line and (with --nft)
 * removes the nftables table it installed.
 */
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { parseDuration } from '../../config/index.js';
import { assertNotForwarding, installNft, NFT_TABLE, removeNft, SinkholeServer, SinkholeSetupError } from '../../devices/sinkhole/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export interface SinkholeCommandOptions {
  interface?: string;
  address: string;
  address6?: string;
  log: string;
  tcpPort: string;
  udpPort: string;
  heartbeat: string;
  nft?: boolean;
  allowForwarding?: boolean;
  /** Tests stop it with this instead of a signal. */
  signal?: AbortSignal;
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new InputError('AIRLOCK_SINKHOLE_USAGE', `${flag} expects a port number 1-65535, got "${v}"`);
  return n;
}

export async function sinkholeCommand(o: SinkholeCommandOptions, io: CommandIO): Promise<number> {
  if (!isIPv4(o.address)) throw new InputError('AIRLOCK_SINKHOLE_USAGE', `--address expects the gateway's IPv4 address on the lab network, got "${o.address}"`);
  if (o.address6 !== undefined && !isIPv6(o.address6)) throw new InputError('AIRLOCK_SINKHOLE_USAGE', `--address6 expects an IPv6 address, got "${o.address6}"`);
  if (o.nft && !o.interface) throw new InputError('AIRLOCK_SINKHOLE_USAGE', '--nft needs --interface (the lab-side interface): redirecting every interface would also catch SSH to the gateway itself');
  if (!path.isAbsolute(o.log)) throw new InputError('AIRLOCK_SINKHOLE_USAGE', `--log expects an absolute path, got "${o.log}"`);
  const tcpPort = port('--tcp-port', o.tcpPort);
  const udpPort = port('--udp-port', o.udpPort);
  let heartbeatMs: number;
  try {
    heartbeatMs = parseDuration(o.heartbeat);
  } catch (e) {
    throw new InputError('AIRLOCK_SINKHOLE_USAGE', `--heartbeat: ${(e as Error).message}`);
  }
  if (heartbeatMs < 100 || heartbeatMs > 3_600_000) throw new InputError('AIRLOCK_SINKHOLE_USAGE', `--heartbeat must be between 100ms and 1h, got ${o.heartbeat}`);

  if (!o.allowForwarding) assertNotForwarding();
  if (o.nft) await installNft({ iface: o.interface!, tcpPort, udpPort });
  let server: SinkholeServer;
  try {
    server = await SinkholeServer.start({
      logFile: o.log,
      address: o.address,
      address6: o.address6,
      tcpPort,
      udpPort,
      heartbeatMs,
      onWriteError: (e) => io.err(`airlock: sinkhole: cannot write ${o.log} (${e.code ?? e.message}); still answering, but the log has a gap from now`),
      // Read again for every heartbeat: the log says so, and runs reading it are INCONCLUSIVE from here.
      onForwarding: (on) => io.err(`airlock: sinkhole: this host forwards packets (${on.join(', ')}): its log says so, and runs that read it are INCONCLUSIVE from here`),
    });
  } catch (e) {
    if (o.nft) await removeNft();
    const err = e as NodeJS.ErrnoException;
    if (err.syscall === 'open' || err.syscall === 'mkdir') throw new SinkholeSetupError('AIRLOCK_SINKHOLE_LOG', `cannot open the log ${o.log}: ${err.message}`, { cause: e });
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') throw new SinkholeSetupError('AIRLOCK_SINKHOLE_LISTEN', `cannot listen (${err.message}): another DNS server or sinkhole holds the port, or this is not root`, { cause: e });
    throw e;
  }
  io.err(
    `airlock sinkhole: answering as ${o.address}${o.address6 ? ` and ${o.address6}` : ''}: DNS on 53, TCP on ${tcpPort}, UDP on ${udpPort}; ` +
      `logging to ${o.log} (heartbeat every ${heartbeatMs / 1000} s)${o.nft ? `; nftables table inet ${NFT_TABLE} redirects ${o.interface}` : ''}`,
  );
  io.out(JSON.stringify({ ready: true, pid: process.pid, instance: server.instance }));

  const reason = await new Promise<string>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => resolve(sig);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    o.signal?.addEventListener('abort', () => resolve('stopped'));
  });
  await server.stop(reason);
  if (o.nft) await removeNft();
  io.err(`airlock sinkhole: stopped (${reason})${o.nft ? `; table inet ${NFT_TABLE} removed` : ''}`);
  return EXIT.pass;
}
