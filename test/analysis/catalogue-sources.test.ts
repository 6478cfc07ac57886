/**
 * The known-endpoint catalogue holds itself to its sources: every shipped entry names a source a
 * reader can follow, the kind of source and what it says; an entry without a source is refused.
 * The names the entries must annotate are written out literally from the sources (docs/certifier/endpoint-catalogue.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkShippedCatalogue, loadCatalogue } from '../../src/analysis/catalogue.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-catalogue-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const shipped = JSON.parse(fs.readFileSync('src/analysis/endpoints.json', 'utf8')) as { entries: Record<string, unknown>[] };

describe('the shipped endpoint catalogue', () => {
  it('every entry: pattern, organisation, purpose, a followable source, its kind, and what it says', () => {
    expect(shipped.entries.length).toBeGreaterThanOrEqual(10);
    for (const e of shipped.entries) {
      const label = JSON.stringify(e.hosts ?? e.addresses);
      expect(typeof e.vendor, label).toBe('string');
      expect(typeof e.service, label).toBe('string');
      expect(String(e.source), label).toMatch(/https:\/\/[^\s,;]+/);
      expect(['reviewed', 'observed', 'documented'], label).toContain(e.kind);
      expect(String(e.says).length, label).toBeGreaterThan(40);
      expect((e.hosts as string[]).length + (e.addresses as string[]).length, label).toBeGreaterThan(0);
    }
    expect(() => checkShippedCatalogue(shipped, 'src/analysis/endpoints.json')).not.toThrow();
  });

  it('annotates the names its sources give, with the right entry', () => {
    const cat = loadCatalogue();
    const m = (name: string) => cat.match(name, undefined);
    expect(m('service-adhoc.dji.com')).toMatchObject({ vendor: 'DJI', kind: 'reviewed' });
    expect(m('service-adhoc.dji.com')!.source).toMatch(/^Synacktiv, "DJI Android GO 4 application security analysis", July 2020/);
    for (const h of ['active.dji.com', 'mydjiflight.dji.com', 'us.djiservice.org', 'djigo-hk.djiservice.org', 'valueadded.djiservice.org', 'cnblog.skypixel.com']) {
      expect(m(h)!.service, h).toMatch(/in the scope of FTI Consulting's 2020 review \(in scope; the review does not report traffic to them\)/);
      expect(m(h)!.kind, h).toBe('reviewed');
    }
    expect(m('flysafe-api.dji.com')!.service).toMatch(/web and cloud services/);
    expect(m('android.bugly.qq.com')).toMatchObject({ kind: 'documented' });
    expect(m('rqd.bugly.qq.com')).toMatchObject({ kind: 'observed' });
    expect(m('l.mob.com')!.vendor).toMatch(/^MobTech/);
    expect(m('api.push.mob.com')!.vendor).toMatch(/^MobTech/);
    expect(m('api.weibo.com')!.vendor).toMatch(/^Sina Weibo/);
    expect(m('api.jpush.cn')!.vendor).toMatch(/^JPush/);
    expect(m('report.jpush.cn')!.vendor).toMatch(/^JPush/);
    expect(m('events.mapbox.com')).toMatchObject({ vendor: 'Mapbox (DJI mapping partner)', kind: 'documented' });
    expect(cat.match(undefined, '47.91.161.230')).toMatchObject({ vendor: 'DJI', kind: 'observed' });
    // Not every name that looks close is known.
    expect(m('weibo.com.example')).toBeUndefined();
    expect(m('notmapbox.com')).toBeUndefined();
    // FTI's entry says plainly that scope is not traffic.
    const fti = shipped.entries.find((e) => (e.hosts as string[]).includes('active.dji.com'))!;
    expect(fti.says).toMatch(/Being in scope is not observed traffic/);
  });

  it('a test fails on an entry without a source, a followable link, a kind or what it says', () => {
    const base = structuredClone(shipped.entries[0]!);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, source: undefined }, /entries\[0\]: "source" must be a non-empty string/],
      [{ ...base, source: '  ' }, /entries\[0\]: "source" must be a non-empty string/],
      [{ ...base, source: 'a blog post somewhere' }, /"source" must include a https:\/\/ link/],
      [{ ...base, kind: undefined }, /"kind" \(reviewed, observed, documented\) is required/],
      [{ ...base, kind: 'rumoured' }, /"kind" must be one of reviewed, observed, documented/],
      [{ ...base, says: undefined }, /"says" \(what the source says\) is required/],
    ];
    for (const [entry, msg] of cases) expect(() => checkShippedCatalogue({ entries: [entry] }, 'x.json')).toThrow(msg);
    // A lab's file: a source is required too (kind and says are optional there).
    const f = path.join(tmp, 'lab.json');
    fs.writeFileSync(f, JSON.stringify({ entries: [{ vendor: 'X', service: 'y', hosts: ['a.example'] }] }));
    expect(() => loadCatalogue(f)).toThrow(/entries\[0\]: "source" must be a non-empty string/);
    fs.writeFileSync(f, JSON.stringify({ entries: [{ vendor: 'X', service: 'y', hosts: ['a.example'], source: 'lab capture 17', kind: 'observed' }] }));
    expect(loadCatalogue(f).match('a.example', undefined)).toEqual({ vendor: 'X', service: 'y', source: 'lab capture 17', kind: 'observed' });
  });
});
