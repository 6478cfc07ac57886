/**
 * The architecture of docs/developer/architecture.md, checked: dependency-cruiser applies the
 * rules of .dependency-cruiser.cjs (no folder imports one above it, no cycle, no driver imports a
 * simulator), and src/devices/ holds no simulator file.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cruise, type ICruiseResult, type IReporterOutput } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('architecture', () => {
  it('no upward import, no cycle, no simulator in a driver (dependency-cruiser)', async () => {
    const { createRequire } = await import('node:module');
    const rules = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { forbidden: unknown[]; options: Record<string, unknown> };
    expect(rules.forbidden.length).toBeGreaterThan(3);
    const out: IReporterOutput = await cruise([join(root, 'src')], {
      validate: true,
      ...rules.options,
      ruleSet: { forbidden: rules.forbidden } as never,
      baseDir: root,
      tsConfig: { fileName: join(root, 'tsconfig.json') },
    } as never);
    const result = out.output as ICruiseResult;
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    const violations = result.summary.violations.map(
      (v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`,
    );
    expect(violations).toEqual([]);
  }, 120_000);

  it('ipaddr.js is loaded only by src/ipaddr.ts, with require (an import costs each process ~150 M instructions at start-up: docs/performance.md)', () => {
    const importers = files(join(root, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith(join('src', 'ipaddr.ts')))
      .filter((f) => /^\s*import\s+(?!type\b)[^;]*from\s+['"]ipaddr\.js['"]/m.test(readFileSync(f, 'utf8')) || /import\(\s*['"]ipaddr\.js['"]\s*\)/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(importers).toEqual([]);
  });

  it('src/devices/ holds drivers only: no simulator file', () => {
    const sims = files(join(root, 'src', 'devices'))
      .map((f) => relative(root, f))
      .filter((f) => /(\.sim\.ts$|\/sim-[^/]*\.ts$)/.test(f));
    expect(sims).toEqual([]);
  });
});
