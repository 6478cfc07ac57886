/**
 * The command line as a user meets it: every command parses, errors become one-line messages
 * and the exit codes of docs/technician/errors-and-exit-codes.md, never a stack trace. Commands run in-process through
 * main(argv, io); one test spawns the real binary to check the process exit code too.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';

const fixtures = path.resolve('test/fixtures/cli');

async function cli(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

describe('airlock CLI', () => {
  it('--version prints the package version and exits 0', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('every command has --help (exit 0)', async () => {
    for (const c of ['run', 'validate', 'analyze', 'verify', 'report', 'bundle', 'keygen', 'suite', 'compare', 'history']) {
      const r = await cli(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out, c).toContain(`Usage: airlock ${c}`);
    }
  });

  it('no command, an unknown command, or an unknown flag is a usage error (exit 2)', async () => {
    expect((await cli()).code).toBe(2);
    const unknown = await cli('fly');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'fly'");
    const flag = await cli('run', 'x.yaml', '--frimware', 'drone=clean');
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('--frimware');
  });

  it('--set without NAME=VALUE is a usage error', async () => {
    const r = await cli('run', 'scenarios/system-off.yaml', '--set', 'quiet');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--set expects NAME=VALUE');
  });

  it('run: a missing scenario file is exit 2 with a clear message', async () => {
    const r = await cli('run', 'scenarios/nope.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('run: a YAML syntax error names file:line:col and exits 2, without a stack trace', async () => {
    const r = await cli('run', path.join(fixtures, 'yaml-error.yaml'));
    expect(r.code).toBe(2);
    // the unclosed [ on line 5 is reported where the file ends without it
    expect(r.err).toContain(`${path.join(fixtures, 'yaml-error.yaml')}:6:1: YAML:`);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('run: an unknown step kind names file:line:col (a typo never disables a check)', async () => {
    const r = await cli('run', path.join(fixtures, 'unknown-step.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`unknown-step.yaml:5:9`);
  });

  it('run: --set of an undeclared parameter is exit 2', async () => {
    const r = await cli('run', 'scenarios/system-off.yaml', '--set', 'quite=10s');
    expect(r.code).toBe(2);
    expect(r.err).toContain('quite');
  });

  it('run: --firmware for a device the rig lacks is exit 2', async () => {
    const r = await cli('run', 'scenarios/system-off.yaml', '--firmware', 'drome=clean', '--out', path.join(process.env.TMPDIR ?? '/tmp', 'airlock-cli-test'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('drome');
  });

  it('run: a firmware name that is neither a profile nor a program is exit 2 (a typo must not run nothing and pass)', async () => {
    const r = await cli('run', 'scenarios/system-off.yaml', '--firmware', 'controller=leaky-htps', '--out', path.join(process.env.TMPDIR ?? '/tmp', 'airlock-cli-test'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('"leaky-htps" is not a built-in profile');
  });

  it('validate passes on every shipped scenario and rig file', async () => {
    const { readdirSync } = await import('node:fs');
    const files = [
      ...readdirSync('scenarios').map((f) => path.join('scenarios', f)),
      ...readdirSync('rig').map((f) => path.join('rig', f)),
    ];
    const r = await cli('validate', ...files);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('analyze requires --lab, and a bad CIDR is exit 2', async () => {
    expect((await cli('analyze', 'x.pcap')).code).toBe(2);
    const r = await cli('analyze', 'x.pcap', '--lab', '10.0.0.0/33');
    expect(r.code).toBe(2);
  });

  it('analyze: --capture-loss-max outside 0%..100% is exit 2 with a clear message (150% would turn the check off)', async () => {
    const over = await cli('analyze', 'x.pcap', '--lab', '10.0.0.0/24', '--capture-loss-max', '150%');
    expect(over.code).toBe(2);
    expect(over.err).toContain('150% is outside 0%..100%: a limit above 100% turns the capture-loss check off');
    expect(over.err).not.toMatch(/\n\s+at /);
    const neg = await cli('analyze', 'x.pcap', '--lab', '10.0.0.0/24', '--capture-loss-max=-1%');
    expect(neg.code).toBe(2);
    expect(neg.err).toContain('not a percentage like 0.1%: -1%');
  });

  it('the installed binary exits with the same codes (process level)', async () => {
    const run = promisify(execFile);
    const bin = ['--import', 'tsx', 'src/cli/main.ts'];
    const ok = await run(process.execPath, [...bin, '--version']);
    expect(ok.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await run(process.execPath, [...bin, 'validate', path.join(fixtures, 'yaml-error.yaml')]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
  });
});
