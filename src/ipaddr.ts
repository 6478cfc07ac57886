/**
 * ipaddr.js (the address and CIDR parser every folder uses), loaded with `require`, not
 * `import`. It is a CommonJS package, and node 20's `import` of it cost every process that
 * loads it, `airlock analyze` and the analyzer of bench/analyze-before-after.bench.ts included,
 * about 150-340 M instructions at start-up (cachegrind: an empty script that imports it runs
 * 166 M more, one that requires it 15 M) for the same module object; docs/performance.md has
 * the figures.
 */
import { createRequire } from 'node:module';
import type IpAddr from 'ipaddr.js';

export const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;
export type IPv4 = IpAddr.IPv4;
export type IPv6 = IpAddr.IPv6;
