/** What the sinkhole writes to `sinkhole.jsonl` (one JSON object per line) and how to read it back. */
import fs from 'node:fs';

export interface SinkholeRecord {
  /** ISO 8601 UTC. */
  time: string;
  /** Milliseconds since the epoch. */
  t: number;
  /** `tcp` = a connection, `udp` = a datagram, `dns` = a DNS question. */
  proto: 'tcp' | 'udp' | 'dns';
  src: string;
  srcPort: number;
  /** The destination as the client addressed it (before the sinkhole's redirect). */
  dst: string;
  dstPort: number;
  /** First bytes received (up to 64), hex. */
  bytes?: string;
  /** DNS: the name asked; TLS: the server name; HTTP: the Host header. */
  name?: string;
  /** DNS question type (A, AAAA, ...). */
  qtype?: string;
  /** DNS: transport the question came by. */
  transport?: 'udp' | 'tcp';
  /** Services in effect when recorded. */
  uplink?: boolean;
  /** Set on the last line when the sinkhole stopped recording individual datagrams. */
  truncated?: boolean;
}

/** Reads a sinkhole log; a torn last line (a crash mid-write) is skipped. */
export function readSinkholeLog(file: string): SinkholeRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: SinkholeRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as SinkholeRecord);
    } catch {
      /* torn line */
    }
  }
  return out;
}
