/**
 * Preloaded into the Airlock process by bench/soak.ts (`node --import ./bench/soak-probe.mjs`):
 * appends the process's own memory figures (process.memoryUsage(): RSS and the V8 heap, which
 * cannot be read from outside) to the file named by AIRLOCK_SOAK_PROBE, one JSON line each
 * interval. Plain JavaScript so the Airlock process runs from dist/ as in a lab, without a
 * TypeScript loader. The variable is removed at once so no child process inherits it.
 */
import fs from 'node:fs';

const file = process.env.AIRLOCK_SOAK_PROBE;
const every = Number(process.env.AIRLOCK_SOAK_PROBE_MS ?? 10_000);
// With --expose-gc, a full collection before each sample makes heapUsed the retained heap.
const collect = typeof globalThis.gc === 'function' ? globalThis.gc : () => undefined;
delete process.env.AIRLOCK_SOAK_PROBE;
delete process.env.AIRLOCK_SOAK_PROBE_MS;

if (file) {
  const sample = () => {
    collect();
    const m = process.memoryUsage();
    const line = { t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
    try {
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // The benchmark reads what is there; a sample lost to a full disk is reported as missing.
    }
  };
  sample();
  setInterval(sample, every).unref();
}
