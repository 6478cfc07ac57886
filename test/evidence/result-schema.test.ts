/** schema/result.schema.json validates what Airlock writes, and rejects what it must not. */
import AjvModule from 'ajv';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leakyResult } from './run-fixture.js';

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const schema = JSON.parse(fs.readFileSync(new URL('../../schema/result.schema.json', import.meta.url), 'utf8'));
const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({ allErrors: true, strict: true });
const validate = ajv.compile(schema);
const validateAnalyze = ajv.compile({ $ref: 'https://airlock.invalid/schema/result.schema.json#/definitions/analyzeOutput' });

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('result.schema.json', () => {
  it('accepts a leaky run result as written to result.json', () => {
    const ok = validate(clone(leakyResult('abc123')));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects a wrong verdict, a finding without evidence, an INCONCLUSIVE without reason, a non-UTC time', () => {
    const bad1 = clone(leakyResult('x1'));
    (bad1 as { verdict: string }).verdict = 'LEAK';
    expect(validate(bad1)).toBe(false);

    const bad2 = clone(leakyResult('x2'));
    delete (bad2.phases[0]!.assertions[0]!.findings[0] as { packet?: number }).packet;
    expect(validate(bad2)).toBe(false);

    const bad3 = clone(leakyResult('x3'));
    delete bad3.phases[1]!.assertions[1]!.reason;
    expect(validate(bad3)).toBe(false);

    const bad4 = clone(leakyResult('x4'));
    bad4.startedAt = '2026-11-24 09:00:10+01:00';
    expect(validate(bad4)).toBe(false);

    const bad5 = clone(leakyResult('x5'));
    (bad5.findings[1] as { kind: string }).kind = 'smoke';
    expect(validate(bad5)).toBe(false);
  });

  it('the analyze --json subset: verdict and findings', () => {
    const r = leakyResult('y1');
    expect(validateAnalyze({ verdict: r.verdict, findings: r.findings, files: ['a.pcap'] })).toBe(true);
    expect(validateAnalyze({ findings: r.findings })).toBe(false);
  });
});

describe('result.schema.json and the optional re-analysis inputs', () => {
  it('accepts preflight and analysisInput as the orchestrator records them, and checks their shape', () => {
    const r = clone(leakyResult('z1'));
    r.preflight = { checks: ['psu answers'], floorsDbm: { '2.4GHz': -92.5 } };
    r.analysisInput = {
      windows: [{ startMs: 1, endMs: 2 }, {}],
      capturesEndMs: 3,
      incompletePhases: [2],
      canaries: { secret: 'ab', file: 'canaries.jsonl', count: 2, capturesFor: { drone: ['net-drone.pcap'] } },
    };
    expect(validate(r)).toBe(true);
    r.analysisInput.canaries = { secret: 'ab', file: 'canaries.jsonl', count: -1, capturesFor: {} };
    expect(validate(r)).toBe(false);
    r.analysisInput.canaries = { secret: 'ab', file: '../etc/passwd', count: 1, capturesFor: {} };
    expect(validate(r)).toBe(false);
    r.analysisInput.canaries = { secret: 'ab', capturesFor: {} } as unknown as typeof r.analysisInput.canaries;
    expect(validate(r)).toBe(false);
  });

  it('still accepts an older result.json with the canaries inline (sent), and checks their shape', () => {
    const r = clone(leakyResult('z2'));
    const sent = [{ host: 'drone', seq: 1, target: 'outside' as const, sentAtMs: 5 }];
    r.analysisInput = { windows: [], capturesEndMs: 3, incompletePhases: [], canaries: { secret: 'ab', sent: sent as never, capturesFor: { drone: ['net-drone.pcap'] } } };
    expect(validate(r)).toBe(true);
    (sent[0] as { target: string }).target = 'moon';
    expect(validate(r)).toBe(false);
  });
});
