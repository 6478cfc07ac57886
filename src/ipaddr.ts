/**
 * ipaddr.js (the address and CIDR parser every folder uses), loaded with `require`, not
 * `import`. It is a CommonJS package, and node 20's `import` of it cost every process that
 * loads it, `airlock analyze` and the analyzer of bench/analyze-before-after.bench.ts included,
 * about 150-360 M instructions at start-up (cachegrind: `import` 166 M, `require` 15 M over an
 * empty script) for the same module object; docs/performance.md has the figures.
 */
import { createRequire } from 'node:module';
import type IpAddr from 'ipaddr.js';

export const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;
export type IPv4 = IpAddr.IPv4;
export type IPv6 = IpAddr.IPv6;
