import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { memoryIO } from '../../src/cli/io.js';

const yamlIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => `${dir}/${f}`);

describe('the shipped files', () => {
  it('airlock validate passes on every rig, scenario and suite in the repository', async () => {
    const files = [...yamlIn('rig'), ...yamlIn('scenarios'), ...yamlIn('suites')];
    expect(files).toContain('rig/virtual.yaml');
    expect(files).toContain('scenarios/system-off.yaml');
    const io = memoryIO();
    const code = await validateCommand({ files }, io);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toEqual(files.map((f) => `ok ${f}`));
    expect(code).toBe(0);
  });
});
