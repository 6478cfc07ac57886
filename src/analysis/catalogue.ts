/**
 * The known-endpoint catalogue: host-name patterns and addresses publicly reported for drone
 * vendors' services, each with the public source a reader can check. It annotates findings
 * (`finding.endpoint`); it never decides one. A lab extends it with its own file (JSON or YAML
 * of the same shape); the lab's entries are matched first.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import shipped from './endpoints.json' with { type: 'json' };
import { parseCidr, parseIPv4, parseIPv6, type Cidr } from './address.js';
import { isIPv6 } from 'node:net';
import { CatalogueError } from './errors.js';

/** How the source knows: reviewed (code, configuration or an audit's stated scope), observed (captured traffic), documented (the operator's own documentation). */
export type SourceKind = 'reviewed' | 'observed' | 'documented';
export const SOURCE_KINDS: readonly SourceKind[] = ['reviewed', 'observed', 'documented'];

export interface EndpointEntry {
  /** The organisation operating the endpoint. */
  vendor: string;
  /** Its purpose, as the source describes it. */
  service: string;
  /** `example.com` (exactly) or `*.example.com` (any name below it). */
  hosts: string[];
  /** CIDRs or single addresses. */
  addresses: string[];
  /** The public report a reader can check (title, publisher, date, URL). */
  source: string;
  /** The kind of source; required in the shipped catalogue, optional in a lab's. */
  kind?: SourceKind;
  /** What the source says about the endpoint, in a sentence; required in the shipped catalogue. */
  says?: string;
}

export interface EndpointMatch {
  vendor: string;
  service: string;
  source: string;
  kind?: SourceKind;
}

export interface EndpointCatalogue {
  entries: readonly EndpointEntry[];
  /** The entry matching a name (DNS/TLS/HTTP) or else an address, or undefined. */
  match(name: string | undefined, address: string | undefined): EndpointMatch | undefined;
  /**
   * The entry whose addresses hold an address given as words (one for IPv4, four for IPv6, as
   * the flow table keeps them), or undefined: the scan's findings, with no text to parse.
   */
  matchAddress(family: 4 | 6, words: readonly number[]): EndpointMatch | undefined;
}

function validate(raw: unknown, origin: string, shippedFile = false): EndpointEntry[] {
  const list = (raw as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(list)) throw new CatalogueError(`${origin}: expected an object with an "entries" list`);
  return list.map((e: unknown, i: number) => {
    const o = e as Record<string, unknown>;
    const where = `${origin}: entries[${i}]`;
    for (const k of ['vendor', 'service', 'source'] as const) {
      if (typeof o[k] !== 'string' || !(o[k] as string).trim()) throw new CatalogueError(`${where}: "${k}" must be a non-empty string`);
    }
    const hosts = o.hosts ?? [];
    const addresses = o.addresses ?? [];
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string')) throw new CatalogueError(`${where}: "hosts" must be a list of strings`);
    if (!Array.isArray(addresses) || !addresses.every((h) => typeof h === 'string')) throw new CatalogueError(`${where}: "addresses" must be a list of strings`);
    if (hosts.length + addresses.length === 0) throw new CatalogueError(`${where}: needs "hosts" or "addresses"`);
    if (o.kind !== undefined && !SOURCE_KINDS.includes(o.kind as SourceKind)) {
      throw new CatalogueError(`${where}: "kind" must be one of ${SOURCE_KINDS.join(', ')}`);
    }
    if (o.says !== undefined && (typeof o.says !== 'string' || !o.says.trim())) throw new CatalogueError(`${where}: "says" must be a non-empty string`);
    // The shipped catalogue holds itself to more: a link a reader can follow, the kind of source, and what it says.
    if (shippedFile) {
      if (!/https:\/\/\S+/.test(o.source as string)) throw new CatalogueError(`${where}: "source" must include a https:// link a reader can follow`);
      if (o.kind === undefined) throw new CatalogueError(`${where}: "kind" (${SOURCE_KINDS.join(', ')}) is required`);
      if (o.says === undefined) throw new CatalogueError(`${where}: "says" (what the source says) is required`);
    }
    for (const a of addresses as string[]) {
      try {
        parseCidr(a);
      } catch {
        throw new CatalogueError(`${where}: "${a}" is not an address or CIDR`);
      }
    }
    return {
      vendor: o.vendor as string,
      service: o.service as string,
      source: o.source as string,
      ...(o.kind !== undefined ? { kind: o.kind as SourceKind } : {}),
      ...(o.says !== undefined ? { says: o.says as string } : {}),
      hosts: (hosts as string[]).map((h) => h.toLowerCase()),
      addresses: addresses as string[],
    };
  });
}

function cidrHas(c: Cidr, family: 4 | 6, words: readonly number[]): boolean {
  return c.family === family && words.every((w, i) => ((w & c.masks[i]!) >>> 0) === c.words[i]);
}

function hostMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1));
  return name === pattern;
}

function annotation(e: EndpointEntry): EndpointMatch {
  return e.kind ? { vendor: e.vendor, service: e.service, source: e.source, kind: e.kind } : { vendor: e.vendor, service: e.service, source: e.source };
}

function build(entries: EndpointEntry[]): EndpointCatalogue {
  const compiled = entries.map((e) => ({ e, cidrs: e.addresses.map(parseCidr) }));
  const matchAddress = (family: 4 | 6, words: readonly number[]): EndpointMatch | undefined => {
    for (const { e, cidrs } of compiled) if (cidrs.some((c) => cidrHas(c, family, words))) return annotation(e);
    return undefined;
  };
  return {
    entries,
    match(name, address) {
      const n = name?.toLowerCase().replace(/\.$/, '');
      if (n) for (const { e } of compiled) if (e.hosts.some((h) => hostMatches(h, n))) return annotation(e);
      if (address) {
        const v4 = parseIPv4(address);
        const family = v4 >= 0 ? 4 : isIPv6(address) ? 6 : 0;
        if (family === 0) return undefined;
        return matchAddress(family, family === 4 ? [v4] : parseIPv6(address));
      }
      return undefined;
    },
    matchAddress,
  };
}

let shippedCatalogue: EndpointCatalogue | undefined;

/**
 * The shipped catalogue, extended by the lab's file when `extraFile` is given (JSON or YAML,
 * `{ entries: [{ vendor, service, hosts, addresses, source }] }`); the lab's entries win.
 */
export function loadCatalogue(extraFile?: string): EndpointCatalogue {
  return loadCatalogueFrom(extraFile);
}

/** Checks a catalogue document as the shipped one is checked (tests; a lab that holds itself to the same bar). */
export function checkShippedCatalogue(raw: unknown, origin: string): EndpointEntry[] {
  return validate(raw, origin, true);
}

function loadCatalogueFrom(extraFile?: string): EndpointCatalogue {
  shippedCatalogue ??= build(validate(shipped, 'src/analysis/endpoints.json', true));
  if (!extraFile) return shippedCatalogue;
  let text: string;
  try {
    text = readFileSync(extraFile, 'utf8');
  } catch (e) {
    throw new CatalogueError(`${extraFile}: cannot read the endpoint catalogue (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  let raw: unknown;
  try {
    // yaml is loaded only for a YAML catalogue (it is most of the analyzer's start-up time).
    raw = extraFile.endsWith('.json') ? JSON.parse(text) : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
  } catch (e) {
    throw new CatalogueError(`${extraFile}: not valid ${extraFile.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  return build([...validate(raw, extraFile), ...shippedCatalogue.entries]);
}
