/**
 * `npm run bench`: every benchmark, one after the other (they measure throughput, so they must
 * not share the two cores). Each prints its own figures and ratios against the reference tool
 * measured in the same run. Set AIRLOCK_BENCH=analyze, =tlog, =radio, =dashboard or =sinkhole-fetch to run one.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches = ['analyze', 'tlog', 'radio', 'dashboard', 'sinkhole-fetch'].filter((b) => !process.env.AIRLOCK_BENCH || process.env.AIRLOCK_BENCH === b);
let failed = 0;
for (const name of benches) {
  const file = path.join('bench', `${name}.bench.ts`);
  process.stdout.write(`\n=== ${file} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`${file} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
