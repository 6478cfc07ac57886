/**
 * The analyzer as the benchmark runs it: in its own process, so its peak memory is its own.
 *   node --import tsx bench/analyze-child.ts FILE LAB_CIDR...   -> one JSON line
 */
import { scanCaptures } from '../src/analysis/index.js';

const [file, ...lab] = process.argv.slice(2);
const cpu0 = process.cpuUsage();
const t = performance.now();
const scan = await scanCaptures([file!], { lab });
const ms = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    packets: scan.packets,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    findings: scan.findings.length,
    flows: scan.flowCount,
    dnsQueries: scan.dnsQueries.length,
    verdict: scan.verdict,
    maxRssKB: process.resourceUsage().maxRSS,
  }),
);
