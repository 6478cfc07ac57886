/**
 * Every name of a finding reaches the person reading it: the evidence line (JUnit), summary.md,
 * the HTML report's table, `analyze`'s table and the console's end-of-run list.
 */
import { describe, expect, it } from 'vitest';
import type { NetworkFinding } from '../../src/analysis/index.js';
import { consoleFinding, findingLine, findingNames } from '../../src/evidence/index.js';
import { progressPrinter } from '../../src/cli/progress.js';

const finding: NetworkFinding = {
  kind: 'network',
  file: 'net-drone.pcap',
  packet: 12,
  lastPacket: 40,
  count: 3,
  time: '2026-12-03T07:00:00.000Z',
  src: '10.231.0.10',
  dst: '10.231.0.1',
  srcPort: 40000,
  dstPort: 53,
  protocol: 'dns',
  reason: 'dns-name',
  name: 'a.vendor.example',
  names: [
    { name: 'a.vendor.example', packet: 12, time: '2026-12-03T07:00:00.000Z', protocol: 'dns' },
    { name: 'b.vendor.example', packet: 20, time: '2026-12-03T07:00:01.000Z', protocol: 'dns' },
    { name: 'c.vendor.example', packet: 40, time: '2026-12-03T07:00:02.000Z', protocol: 'dns' },
  ],
  srcMac: '02:00:00:00:00:0a',
  summary: 'DNS queries for a.vendor.example, b.vendor.example, c.vendor.example',
};

describe('every name is shown', () => {
  it('findingNames and the evidence line list each name with its first packet', () => {
    expect(findingNames(finding)).toBe('a.vendor.example (#12), b.vendor.example (#20), c.vendor.example (#40)');
    const line = findingLine(finding);
    for (const n of ['a.vendor.example (#12)', 'b.vendor.example (#20)', 'c.vendor.example (#40)', '02:00:00:00:00:0a']) expect(line).toContain(n);
  });

  it('the console lists each phase finding with its names at the end of a run', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
    print({ type: 'done', verdict: 'FAIL', exitCode: 1, runDir: '/tmp/x', phases: [{ name: 'powered', verdict: 'FAIL', findings: [`no_egress: ${finding.summary}; names: ${findingNames(finding)}`] }] });
    const text = lines.join('\n');
    for (const n of ['a.vendor.example (#12)', 'b.vendor.example (#20)', 'c.vendor.example (#40)']) expect(text).toContain(n);
  });

  it('the console says why an INCONCLUSIVE phase could not be decided', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: () => {}, err: (t) => void lines.push(t), tty: false }, false);
    print({ type: 'done', verdict: 'INCONCLUSIVE', exitCode: 3, runDir: '/tmp/x', phases: [{ name: 'quiet', verdict: 'INCONCLUSIVE', findings: [], reasons: ['no_egress: net-drone.pcap holds no packet at all in this window: the capture was blind'] }] });
    expect(lines.join('\n')).toMatch(/quiet\s+INCONCLUSIVE\n\s+undecided: no_egress: net-drone\.pcap holds no packet at all in this window/);
  });

  it('a console finding names its capture file, so one flow seen in two captures does not read as a duplicate', () => {
    const inUplink: NetworkFinding = { ...finding, file: 'net-uplink.pcap', packet: 30, lastPacket: 58 };
    const a = consoleFinding('egress_policy', finding);
    const b = consoleFinding('egress_policy', inUplink);
    expect(a).toContain('[net-drone.pcap]');
    expect(b).toContain('[net-uplink.pcap]');
    for (const n of ['a.vendor.example (#12)', 'b.vendor.example (#20)', 'c.vendor.example (#40)']) expect(a).toContain(n);
    expect(a.startsWith(`egress_policy: ${finding.summary}`)).toBe(true);
  });
});
