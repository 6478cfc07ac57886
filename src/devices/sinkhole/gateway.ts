/**
 * What `airlock sinkhole` does to the gateway around the server: it refuses to start on a box that
 * forwards (a sinkhole that forwards is an uplink), and with `--nft` installs the redirect ruleset
 * as a table of its own (`inet airlock_sinkhole`) and removes exactly that table on exit.
 */
import { execFile } from 'node:child_process';
import { SinkholeSetupError } from './errors.js';
import { forwardingOn } from './forwarding.js';
import { nftRuleset } from './server.js';

export const NFT_TABLE = 'airlock_sinkhole';

export function assertNotForwarding(): void {
  const on = forwardingOn();
  if (on.length > 0) {
    throw new SinkholeSetupError(
      'AIRLOCK_SINKHOLE_FORWARDING',
      `this host forwards packets (${on.join(', ')}): a lab gateway that forwards lets the lab reach the outside. Switch it off (sysctl -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0), or pass --allow-forwarding if another layer blocks it`,
    );
  }
}

function nft(args: string[], input?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('nft', args, { timeout: 15_000 }, (error, _stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
      resolve({ code, stderr: String(stderr || (error && code === -1 ? error.message : '')) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Installs the redirect table (replacing one a crashed sinkhole left behind). */
export async function installNft(opts: { iface: string; tcpPort: number; udpPort: number; dnsPort?: number }): Promise<void> {
  await removeNft();
  const r = await nft(['-f', '-'], nftRuleset({ table: NFT_TABLE, ...opts }));
  if (r.code !== 0) throw new SinkholeSetupError('AIRLOCK_SINKHOLE_NFT', `nft refused the ruleset (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`);
}

/** Removes the table if it is there; true when it was. */
export async function removeNft(): Promise<boolean> {
  const r = await nft(['delete', 'table', 'inet', NFT_TABLE]);
  return r.code === 0;
}
