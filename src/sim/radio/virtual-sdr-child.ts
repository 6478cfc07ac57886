/**
 * Child entry of the virtual SDR (run inside the drone's namespace with `ip netns exec`):
 *   virtual-sdr-child --bands LOW:HIGH[,LOW:HIGH...] --bin HZ [--interval MS] [--iface air0]
 * Prints hackrf_sweep CSV on stdout until SIGTERM.
 */
import { runVirtualSdr } from './virtual-sdr.js';
import { exitWhenOrphaned } from './parent-watch.js';
import { childArg } from './air-sniffer.js';

const arg = (name: string, fallback?: string) => childArg('virtual-sdr', name, fallback);

const bands = arg('--bands')
  .split(',')
  .map((s) => {
    const [lo, hi] = s.split(':').map(Number);
    return { lowHz: lo!, highHz: hi! };
  });
const stop = runVirtualSdr({
  iface: arg('--iface', 'air0'),
  bands,
  binHz: Number(arg('--bin')),
  intervalMs: Number(arg('--interval', '250')),
  write: (t) => process.stdout.write(t),
});
exitWhenOrphaned(() => process.exit(0));
// A parent that went away closes our stdout: stop instead of dying on EPIPE.
process.stdout.on('error', () => process.exit(0));
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    stop();
    process.exit(0);
  });
}
