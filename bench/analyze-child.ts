/**
 * The analyzer as the benchmark runs it: in its own process, so its peak memory is its own.
 *   node analyze-child.js FILE LAB_CIDR... [--flows]   -> one JSON line
 * With --flows it also builds every flow summary (what the orchestrator's report reads).
 */
import { scanCaptures } from '../src/analysis/index.js';

const args = process.argv.slice(2);
const buildFlows = args.includes('--flows');
const [file, ...lab] = args.filter((a) => a !== '--flows');
const cpu0 = process.cpuUsage();
const t = performance.now();
const scan = await scanCaptures([file!], { lab });
const ms = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
let flowsMs = 0;
if (buildFlows) {
  const t2 = performance.now();
  if (scan.flows.length !== scan.flowCount) throw new Error('flow count mismatch');
  flowsMs = performance.now() - t2;
}
console.log(
  JSON.stringify({
    packets: scan.packets,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    findings: scan.findings.length,
    flows: scan.flowCount,
    dnsQueries: scan.dnsQueries.length,
    verdict: scan.verdict,
    flowsMs,
    maxRssKB: process.resourceUsage().maxRSS,
  }),
);
