/** One finding as a line of evidence a person reads: where it is (file, packet or line, time) and what it is. */
import type { Finding } from '../analysis/finding.js';

export function findingPointer(f: Finding): string {
  if (f.kind === 'network' || f.kind === 'mavlink') return `${f.file} packet ${f.packet}`;
  if (f.kind === 'power') return `${f.file} line ${f.line}`;
  if (f.packet !== undefined) return `${f.file} packet ${f.packet}`;
  if (f.line !== undefined) return `${f.file} line ${f.line}`;
  return f.file;
}

export function findingAddresses(f: Finding): string {
  if (f.kind !== 'network') return '';
  const src = f.srcPort !== undefined ? `${f.src}:${f.srcPort}` : f.src;
  const dst = f.dstPort !== undefined ? `${f.dst}:${f.dstPort}` : f.dst;
  return `${src} -> ${dst}`;
}

/** Every name a network finding carried, each with the packet that first carried it: `a.example (#3), b.example (#9)`. */
export function findingNames(f: Finding): string {
  if (f.kind !== 'network') return '';
  if (f.names && f.names.length > 0) return f.names.map((n) => `${n.name} (#${n.packet})`).join(', ');
  return f.name ?? '';
}

export function findingLine(f: Finding): string {
  const parts = [`[${f.kind}] ${f.summary}`, `evidence: ${findingPointer(f)} at ${f.time}`];
  if (f.kind === 'network') {
    const names = findingNames(f);
    parts.push(`${f.protocol} ${findingAddresses(f)}${names ? ` ${f.names && f.names.length > 1 ? 'names' : 'name'} ${names}` : ''}`);
    if (f.srcMac) parts.push(`from MAC ${f.srcMac}`);
    if (f.process) parts.push(`process ${f.process}`);
    if (f.count > 1) parts.push(`${f.count} packets (${f.packet}..${f.lastPacket})`);
  } else if (f.kind === 'power') parts.push(`${f.channel} ${f.amps} A > limit ${f.limitAmps} A`);
  else if (f.kind === 'radio') {
    if (f.band) parts.push(`band ${f.band}`);
    if (f.peakDbm !== undefined) parts.push(`peak ${f.peakDbm} dBm`);
    if (f.transmitter) parts.push(`transmitter ${f.transmitter}`);
    if (f.carrier) parts.push(`carrier ${f.carrier}`);
    if (f.count !== undefined && f.count > 1 && f.packet !== undefined) parts.push(`${f.count} frames (${f.packet}..${f.lastPacket ?? f.packet})`);
  } else if (f.kind === 'mavlink') parts.push(`link ${f.link} system ${f.systemId}, ${f.count} packets`);
  return parts.join('; ');
}

/**
 * One finding as the console lists it at the end of a run: the assertion, the summary, every name
 * when there are several, and the capture file its packet numbers count in (a flow crossing two
 * captures is two findings with different packet numbers; without the file they read as duplicates).
 */
export function consoleFinding(assertion: string, f: Finding): string {
  const names = f.kind === 'network' && f.names && f.names.length > 1 ? `; names: ${findingNames(f)}` : '';
  return `${assertion}: ${f.summary}${names}${f.file ? ` [${f.file}]` : ''}`;
}

/** A phase's loosening of the run-wide egress policy, as shown beside its verdict. */
export function allowText(allow: { hosts: string[]; names: string[] }): string {
  const parts = [allow.hosts.length ? `hosts ${allow.hosts.join(', ')}` : '', allow.names.length ? `names ${allow.names.join(', ')}` : ''].filter(Boolean);
  return `allowed beyond the lab: ${parts.join('; ') || 'nothing'}`;
}
