/**
 * The rules: one function per assertion kind, each turning the data of one window into a
 * verdict with its evidence. Pure: they read the run directory's files and the window's
 * network scan (made by the engine, engine.ts), and write nothing.
 *
 * A PASS needs positive proof the capture could see: no drops, no damage, every canary sent
 * in the window present in every capture it crosses, and nothing the sinkhole saw that the
 * capture missed. Otherwise INCONCLUSIVE, with the reason. A FAIL stands regardless.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Assertion, PhaseAllow, RigConfig } from '../config/types.js';
import type { Finding, MavlinkFinding, NetworkFinding, PowerFinding, Verdict } from '../analysis/finding.js';
import { EgressPolicy, type NetworkScan } from '../analysis/index.js';
import type { AssertionResult } from './result.js';
import { judgeRadio } from './judge-radio.js';
import { judgeMavlink } from './judge-mavlink.js';
import { WindowData, type Window } from './window-data.js';
import type { JudgeInput } from './input.js';
import { networkBlindness } from './network-blindness.js';
import { deviceIdentities, findingsOfDevices, withoutAllowedNames } from './attribution.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function decide(findings: Finding[], blind: string[], incomplete: boolean): { verdict: Verdict; reason?: string } {
  if (findings.length > 0) return { verdict: 'FAIL' };
  if (blind.length > 0) return { verdict: 'INCONCLUSIVE', reason: blind.join('; ') };
  if (incomplete) return { verdict: 'INCONCLUSIVE', reason: 'the phase was cut short (run aborted or faulted)' };
  return { verdict: 'PASS' };
}

/** Every device's configured addresses (the sinkhole is no device: it would claim every finding sent to it). */
function configuredDevices(rig: RigConfig): Record<string, { addresses: string[] }> {
  const out: Record<string, { addresses: string[] }> = {};
  for (const [name, d] of Object.entries(rig.devices)) out[name] = { addresses: [d.address, d.address6].filter((x): x is string => !!x) };
  return out;
}

/** The analyzer's own policy decides names: allowed under .local, the lab's names and `allow`. */
export function namePolicy(allow: string[], rig: RigConfig): EgressPolicy {
  return new EgressPolicy(rig.lab.subnets, [...allow, ...rig.lab.names]);
}

async function judgeNetworkAssertion(a: Extract<Assertion, { kind: 'no_egress' | 'no_dns' | 'traffic_only_to' }>, data: WindowData, incomplete: boolean): Promise<AssertionResult> {
  const findings = networkAssertionFindings(a, await data.network(), data.input.rig);
  const blind = findings.length > 0 ? [] : await networkBlindness(data);
  return { kind: a.kind, ...decide(findings, blind, incomplete), findings, params: paramsOf(a) };
}

/**
 * traffic_only_to: whether a destination address is one of the hosts the assertion allows (or
 * stays on the link: broadcast, link-local multicast). The live analysis keeps, of a sealed
 * capture part, only the flows this refuses (src/verdict/live.ts).
 */
export function allowedDestination(a: Extract<Assertion, { kind: 'traffic_only_to' }>, rig: RigConfig): (addr: string) => boolean {
  const allowed: string[] = [];
  for (const h of a.hosts) {
    const d = rig.devices[h];
    if (d) {
      if (d.address) allowed.push(d.address);
      if (d.address6) allowed.push(d.address6);
    } else if (h === 'sinkhole') {
      if (rig.lab.sinkhole) allowed.push(rig.lab.sinkhole);
      if (rig.lab.sinkhole6) allowed.push(rig.lab.sinkhole6);
    } else allowed.push(h);
  }
  // The allowed hosts act as the "lab" of an egress policy; judging dst -> dst asks only
  // whether the destination is allowed or stays on the link (broadcast, link-local multicast).
  const policy = new EgressPolicy(allowed);
  return (addr: string) => !policy.judge(addr, addr);
}

/** The findings of a network assertion over one window's scan (the live analysis, src/verdict/live.ts, asks the same). */
export function networkAssertionFindings(
  a: Extract<Assertion, { kind: 'no_egress' | 'no_dns' | 'traffic_only_to' }>,
  scan: Pick<NetworkScan, 'findings' | 'dnsQueries' | 'canaries' | 'flows'>,
  rig: RigConfig,
): NetworkFinding[] {
  let findings: NetworkFinding[] = [];
  if (a.kind === 'no_egress') {
    // A name the scenario allows may be looked up inside the lab; sent outside it is still egress.
    // An allowed name exempts only the lab-internal exchange that asks for it (attribution.ts).
    findings = withoutAllowedNames(scan.findings, namePolicy(a.allowNames, rig), new EgressPolicy(rig.lab.subnets));
    // Devices are known by their configured addresses and by the MACs and addresses the capture
    // ties to them; a finding no device can be tied to stays a finding of every device.
    if (a.devices && a.devices.length > 0) findings = findingsOfDevices(findings, a.devices, deviceIdentities(configuredDevices(rig), scan.flows));
  } else if (a.kind === 'no_dns') {
    const names = namePolicy(a.allowNames, rig);
    const byName = new Map<string, NetworkFinding>();
    for (const q of scan.dnsQueries) {
      if (names.nameAllowed(q.name)) continue;
      const prev = byName.get(q.name);
      if (prev) {
        prev.count++;
        prev.lastPacket = q.packet;
        continue;
      }
      byName.set(q.name, {
        kind: 'network',
        file: q.file,
        packet: q.packet,
        lastPacket: q.packet,
        count: 1,
        time: q.time,
        src: q.src,
        dst: q.dst,
        dstPort: 53,
        protocol: 'dns',
        name: q.name,
        reason: 'dns-name',
        summary: `DNS query for ${q.name} from ${q.src} to ${q.dst}${q.answered ? '' : ' (unanswered)'}`,
      });
    }
    findings = [...byName.values()];
  } else if (a.kind === 'traffic_only_to') {
    const ok = allowedDestination(a, rig);
    // Canaries are Airlock's own packets (recognised by their HMAC mark), not the devices' traffic:
    // a flow of nothing but canaries and their answers is Airlock's, even when the window holds
    // only the answer (its canary sent just before the window).
    const canaryPackets = new Set(scan.canaries.map((c) => `${c.file}|${c.packet}`));
    findings = scan.flows
      .filter((f) => !f.canaryOnly && !canaryPackets.has(`${f.file}|${f.packet}`))
      .filter((f) => !ok(f.dst))
      .map((f) => ({
        kind: 'network' as const,
        file: f.file,
        packet: f.packet,
        lastPacket: f.lastPacket,
        count: f.count,
        time: iso(f.firstMs),
        src: f.src,
        dst: f.dst,
        srcPort: f.srcPort,
        dstPort: f.dstPort,
        protocol: f.protocol,
        name: f.name,
        reason: 'not-allowed-host',
        summary: `${f.protocol} ${f.src} -> ${f.dst}${f.dstPort !== undefined ? ':' + f.dstPort : ''} is not to an allowed host`,
      }));
  }
  return findings;
}

/** Reads power-<channel>.csv (time,volts,amps) rows in the window. Hand-written: three columns. */
function readPowerCsv(file: string, w: Window): Array<{ line: number; ms: number; amps: number }> {
  if (!existsSync(file)) return [];
  const rows: Array<{ line: number; ms: number; amps: number }> = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = (lines[0] ?? '').split(',');
  const tCol = header.indexOf('time');
  const aCol = header.indexOf('amps');
  if (tCol < 0 || aCol < 0) return [];
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.split(',');
    if (cols.length <= Math.max(tCol, aCol)) continue;
    const ms = Date.parse(cols[tCol]!);
    const amps = Number(cols[aCol]);
    if (!Number.isFinite(ms) || cols[aCol] === '' || !Number.isFinite(amps)) continue;
    if (ms >= w.fromMs && ms < w.toMs) rows.push({ line: i + 1, ms, amps });
  }
  return rows;
}

/** current_below / current_above: fails on a sustained violation (>= 1 s), not on one sample. */
function judgeCurrent(a: Extract<Assertion, { kind: 'current_below' | 'current_above' }>, data: WindowData, incomplete: boolean): AssertionResult {
  const file = `power-${a.channel}.csv`;
  const rows = readPowerCsv(path.join(data.input.runDir, file), data.window);
  const params = paramsOf(a);
  const rec = data.input.captures.find((c) => c.kind === 'power');
  if (rows.length < 3) {
    return { kind: a.kind, verdict: 'INCONCLUSIVE', findings: [], reason: `too few current readings in ${file} for this phase (${rows.length})`, params };
  }
  const bad = (amps: number) => (a.kind === 'current_below' ? amps >= a.amps : amps <= a.amps);
  let runStart = -1;
  let peak = 0;
  const findings: PowerFinding[] = [];
  for (let i = 0; i <= rows.length; i++) {
    const r = rows[i];
    if (r && bad(r.amps)) {
      if (runStart < 0) {
        runStart = i;
        peak = r.amps;
      }
      peak = a.kind === 'current_below' ? Math.max(peak, r.amps) : Math.min(peak, r.amps);
      continue;
    }
    if (runStart >= 0) {
      const first = rows[runStart]!;
      const last = rows[i - 1]!;
      if (last.ms - first.ms >= 1000 && findings.length === 0) {
        findings.push({
          kind: 'power',
          file,
          line: first.line,
          time: iso(first.ms),
          channel: a.channel,
          amps: peak,
          limitAmps: a.amps,
          summary: `${a.channel} drew ${(peak * 1000).toFixed(1)} mA from ${iso(first.ms)} to ${iso(last.ms)} (${a.kind === 'current_below' ? 'limit' : 'at least'} ${(a.amps * 1000).toFixed(1)} mA)`,
        });
      }
      runStart = -1;
    }
  }
  const blind = rec?.lossy ? [`power record is lossy: ${rec.reason ?? ''}`] : [];
  return { kind: a.kind, ...decide(findings, blind, incomplete), findings, params };
}

export function paramsOf(a: Assertion): Record<string, unknown> {
  const { kind: _k, pos: _p, ...rest } = a;
  return rest;
}

export async function judgeAssertion(a: Assertion, data: WindowData, incomplete: boolean): Promise<AssertionResult> {
  try {
    switch (a.kind) {
      case 'no_egress':
      case 'no_dns':
      case 'traffic_only_to':
        return await judgeNetworkAssertion(a, data, incomplete);
      case 'current_below':
      case 'current_above':
        return judgeCurrent(a, data, incomplete);
      case 'no_mavlink': {
        const r = await judgeMavlink(a, data.input, data.window);
        return { kind: a.kind, ...decide(r.findings as MavlinkFinding[], r.blind, incomplete), findings: r.findings, params: paramsOf(a) };
      }
      case 'no_radio':
      case 'radio_only':
      case 'no_remote_id':
      case 'no_probe_requests': {
        const r = await judgeRadio(a, data.input, data.window);
        return { kind: a.kind, ...decide(r.findings, r.blind, incomplete), findings: r.findings, params: paramsOf(a) };
      }
    }
  } catch (error) {
    // An analysis that cannot run decides nothing: never PASS.
    return { kind: a.kind, verdict: 'INCONCLUSIVE', findings: [], reason: `analysis failed: ${(error as Error).message}`, params: paramsOf(a) };
  }
}

/** Addresses (and CIDRs) of rig device names, `sinkhole`, addresses or CIDRs. */
export function hostAddresses(rig: RigConfig, hosts: string[]): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const d = rig.devices[h];
    if (d) {
      if (d.address) out.push(d.address);
      if (d.address6) out.push(d.address6);
    } else if (h === 'sinkhole') {
      if (rig.lab.sinkhole) out.push(rig.lab.sinkhole);
      if (rig.lab.sinkhole6) out.push(rig.lab.sinkhole6);
    } else out.push(h);
  }
  return out;
}

/**
 * The run-wide egress policy (`egress_policy`): every finding of the window's scan under the
 * lab's subnets and names, less what the phase's `allow:` names exactly. An allowed host
 * covers packets to or from it; an allowed name covers DNS lookups of it (and below it). A
 * packet that leaves for any other address is still a finding, whatever name it carries.
 */
export function egressPolicyFindings(findings: NetworkFinding[], rig: RigConfig, allow: PhaseAllow | undefined): NetworkFinding[] {
  if (!allow || (allow.hosts.length === 0 && allow.names.length === 0)) return findings;
  const widened = new EgressPolicy([...rig.lab.subnets, ...hostAddresses(rig, allow.hosts)]);
  const lab = new EgressPolicy(rig.lab.subnets);
  const names = new EgressPolicy(rig.lab.subnets, allow.names);
  const out: NetworkFinding[] = [];
  for (const f of findings) {
    if (lab.judge(f.src, f.dst)) {
      if (widened.judge(f.src, f.dst)) out.push(f);
      continue;
    }
    // Inside the lab, a finding is a name a resolver would carry out: it keeps the names not allowed.
    out.push(...withoutAllowedNames([f], names, lab));
  }
  return out;
}

export async function judgeEgressPolicy(data: WindowData, allow: PhaseAllow | undefined, incomplete: boolean): Promise<AssertionResult> {
  try {
    const scan = await data.network();
    const findings = egressPolicyFindings(scan.findings, data.input.rig, allow);
    const blind = findings.length > 0 ? [] : await networkBlindness(data);
    const params: Record<string, unknown> = { lab: data.input.rig.lab.subnets };
    if (allow) params.allow = allow;
    return { kind: 'egress_policy', ...decide(findings, blind, incomplete), findings, params };
  } catch (error) {
    return { kind: 'egress_policy', verdict: 'INCONCLUSIVE', findings: [], reason: `analysis failed: ${(error as Error).message}` };
  }
}
