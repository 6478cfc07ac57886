/**
 * Argument parsing (commander) and the one place where errors become messages and exit codes.
 * Each command's behaviour lives in src/cli/commands/<name>.ts as `(options, io) => exitCode`;
 * modules are imported when their command runs, so `airlock --help` stays fast.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AirlockError } from '../errors.js';
import type { CommandIO } from './io.js';
import { EXIT } from './exit-codes.js';
import { AIRLOCK_VERSION } from '../version.js';


/** `--set a=b --set c=d` → { a: 'b', c: 'd' }; `--firmware drone=leaky-dns` likewise. */
function collectPairs(flag: string) {
  return (value: string, previous: Record<string, string> = {}): Record<string, string> => {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${flag} expects NAME=VALUE, got "${value}"`);
    return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
  };
}

function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  return Number(value);
}

/** `0.1%` -> 0.001 (the rig file's capture_loss_max form); outside 0 %..100 % refused (above 100 % turns the check off). */
function parsePercent(value: string): number {
  if (!/^(\d+(\.\d+)?|\.\d+)%$/.test(value)) throw new InvalidArgumentError(`not a percentage like 0.1%: ${value}`);
  if (Number(value.slice(0, -1)) > 100) throw new InvalidArgumentError(`${value} is outside 0%..100%: a limit above 100% turns the capture-loss check off`);
  return Number(value.slice(0, -1)) / 100;
}

/** `--dashboard` alone (true: a port the system chooses) or `--dashboard=PORT`. */
function parseDashboardPort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError(`not a port number: ${value} (write --dashboard=PORT, or put --dashboard after the scenario file)`);
  }
  return Number(value);
}

function parseWait(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--wait expects a duration like 30s or 10m, got "${value}"`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * mult;
}

/** Turns anything a command throws into a message and an exit code (docs/developer/conventions.md 10). */
export function exitCodeFor(error: unknown, io: CommandIO): number {
  if (error instanceof AirlockError) {
    io.err(`airlock: ${error.message}`);
    if (process.env.AIRLOCK_DEBUG && error.stack) io.err(error.stack);
    return error.category === 'input' ? EXIT.usage : error.category === 'rig' ? EXIT.rigFault : EXIT.inconclusive;
  }
  // Not a user error: a bug or an unexpected system failure. Never a PASS: inconclusive.
  const e = error as Error;
  io.err(`airlock: internal error: ${e?.message ?? String(error)}`);
  io.err(process.env.AIRLOCK_DEBUG ? String(e?.stack) : 'airlock: (set AIRLOCK_DEBUG=1 for the stack trace; please report it)');
  return EXIT.inconclusive;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  let exitCode: number = EXIT.pass;
  const program = new Command('airlock');
  const guard = (fn: () => Promise<number>) => async () => {
    try {
      exitCode = await fn();
    } catch (error) {
      exitCode = exitCodeFor(error, io);
    }
  };

  program
    .description('Hardware-in-the-loop rig controller: proves, with evidence, that nothing leaves an air-gapped lab.')
    .version(AIRLOCK_VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showSuggestionAfterError(true);

  program
    .command('run')
    .description('run a scenario on a rig, capture everything, decide, and write a run directory')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('--rig <file>', "rig file (default: the scenario's rig:, else rig/virtual.yaml)")
    .option('--out <dir>', 'directory for run directories', 'captures')
    .option('--set <name=value>', 'override a scenario parameter (repeatable)', collectPairs('--set'))
    .option('--firmware <device=profile|command>', 'firmware for a device (repeatable)', collectPairs('--firmware'))
    .option('--key <file>', 'Ed25519 private key (PEM) to sign the run (or env AIRLOCK_SIGNING_KEY)')
    .option('--controls <file>', "the lab's control mapping (JSON or YAML, schema/controls.schema.json): extends or replaces the shipped one")
    .option('--wait <duration>', 'wait this long for a rig held by another job', parseWait, 0)
    .option('--json', 'print machine-readable JSON events instead of the progress display', false)
    .option('--dashboard [port]', 'serve the live dashboard on 127.0.0.1 (at this port, else one the system chooses; the URL is printed)', parseDashboardPort)
    .option('--stop-on-finding', 'end the run at the first live finding: safe the rig, later phases NOT_RUN, exit 1 (the post-run analysis still decides)', false)
    .action((scenario: string, o) =>
      guard(async () => (await import('./commands/run.js')).runCommand({ scenario, ...o }, io))(),
    );

  program
    .command('dashboard')
    .description('serve the dashboard of a run, going on or finished, on 127.0.0.1 (follows its events.jsonl)')
    .argument('<run-dir>', 'the run directory')
    .option('--port <n>', 'port on 127.0.0.1 (default: one the system chooses; the URL is printed)', parsePort)
    .action((runDir: string, o) =>
      guard(async () => (await import('./commands/dashboard.js')).dashboardCommand({ runDir, port: o.port }, io))(),
    );

  program
    .command('recover')
    .description('after a SIGKILL or crash: switch the dead run\'s rig off, end its processes, finalise its run directory')
    .argument('[run-dir]', 'the dead run\'s directory (default: every dead run on this host)')
    .action((runDir: string | undefined) =>
      guard(async () => (await import('./commands/recover.js')).recoverCommand({ runDir }, io))(),
    );

  program
    .command('validate')
    .description('check rig, scenario and suite files, and each scenario against its rig')
    .argument('<files...>', 'files to check')
    .option('--rig <file>', 'rig to check scenarios against')
    .option('--set <name=value>', 'scenario parameter (repeatable)', collectPairs('--set'))
    .action((files: string[], o) =>
      guard(async () => (await import('./commands/validate.js')).validateCommand({ files, ...o }, io))(),
    );

  program
    .command('analyze')
    .description('judge captures made anywhere: did anything leave the lab?')
    .argument('<captures...>', 'pcap or pcapng files')
    .addOption(new Option('--lab <cidr>', 'a lab subnet (repeatable)').argParser(collectList).makeOptionMandatory())
    .option('--lab-name <name>', 'a DNS name that resolves inside the lab (repeatable; .local always does)', collectList)
    .option('--catalogue <file>', "the lab's own known-endpoint catalogue (JSON or YAML), added to the shipped one")
    .option('--capture-loss-max <percent>', 'largest estimated TCP capture loss a file may show, 0% to 100%, e.g. 0.5% (above it: INCONCLUSIVE, exit 3; default 0.1%)', parsePercent)
    .option('--json', 'print one JSON document', false)
    .action((files: string[], o) =>
      guard(async () => (await import('./commands/analyze.js')).analyzeCommand({ files, ...o, labNames: o.labName }, io))(),
    );

  program
    .command('verify')
    .description('check a run directory or bundle offline: hashes, signature and signer trust, re-analysis (exit 3: integrity only, signer not trusted)')
    .argument('<path>', 'run directory or bundle .tar.gz')
    .option('--key <file>', 'a public key (PEM) the verifier trusts (repeatable)', collectList)
    .option('--keyring <file>', 'a file of trusted public keys (PEM, concatenated; repeatable; default: env AIRLOCK_KEYRING)', collectList)
    .option('--json', 'print one JSON document', false)
    .action((path: string, o) =>
      guard(async () => (await import('./commands/verify.js')).verifyCommand({ path, ...o }, io))(),
    );

  program
    .command('report')
    .description("write a finished run's report beside it, with your trust in its signer on page 1; --pdf prints it through headless Chromium")
    .argument('<path>', 'run directory or bundle .tar.gz')
    .option('--out <file>', 'report file (default: <run-dir>.report.html, or .pdf with --pdf)')
    .option('--pdf', 'print to PDF through headless Chromium (Debian chromium, or env AIRLOCK_CHROMIUM)', false)
    .option('--key <file>', 'a public key (PEM) you trust (repeatable)', collectList)
    .option('--keyring <file>', 'a file of trusted public keys (repeatable; default: env AIRLOCK_KEYRING)', collectList)
    .option('--controls <file>', "a control mapping (default: the run's own controls.json)")
    .action((path: string, o) =>
      guard(async () => (await import('./commands/report.js')).reportCommand({ path, ...o }, io))(),
    );

  program
    .command('bundle')
    .description('pack a run directory into a deterministic .tar.gz')
    .argument('<run-dir>', 'run directory')
    .option('--out <file>', 'bundle file (default: <run-dir>.tar.gz)')
    .action((runDir: string, o) =>
      guard(async () => (await import('./commands/bundle.js')).bundleCommand({ runDir, ...o }, io))(),
    );

  program
    .command('canary-helper')
    .description("send canaries from this lab-side host for a run on another (started by the run over SSH; speaks JSON lines on stdin/stdout)")
    .action(() =>
      guard(async () => {
        const { runCanaryChild } = await import('../devices/capture/canary-child.js');
        await runCanaryChild(process.stdin, process.stdout);
        return process.exitCode === 1 ? 4 : 0;
      })(),
    );

  program
    .command('sinkhole')
    .description("run the lab gateway's sinkhole: answer DNS with its own address, accept any TCP/UDP port, log each attempt with its original destination, never forward (until SIGTERM)")
    .requiredOption('--address <ipv4>', "the gateway's address on the lab network (the DNS answer)")
    .option('--address6 <ipv6>', 'its IPv6 address (the AAAA answer)')
    .option('--interface <name>', 'the lab-side interface (the nftables redirect applies to it only)')
    .option('--log <file>', 'the log, appended to (JSON lines)', '/var/log/airlock/sinkhole.jsonl')
    .option('--tcp-port <port>', 'port of the catch-all TCP listener', '10001')
    .option('--udp-port <port>', 'port of the catch-all UDP listener', '10002')
    .option('--heartbeat <duration>', 'a liveness line this often, so a gap in the log shows', '5s')
    .option('--nft', `install the redirect as nftables table inet airlock_sinkhole (removed on exit)`, false)
    .option('--allow-forwarding', 'start even though IPv4/IPv6 forwarding is on (another layer must block it)', false)
    .action((o) => guard(async () => (await import('./commands/sinkhole.js')).sinkholeCommand(o, io))());

  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing runs')
    .option('--out <dir>', 'directory for airlock.key and airlock.pub', '.')
    .action((o) => guard(async () => (await import('./commands/keygen.js')).keygenCommand(o, io))());

  program
    .command('suite')
    .description('run a suite of scenarios in order on one rig')
    .argument('<suite>', 'suite file (YAML)')
    .option('--rig <file>', 'rig file')
    .option('--out <dir>', 'directory for suite directories', 'captures')
    .option('--firmware <device=image|command>', 'firmware under test (repeatable)', collectPairs('--firmware'))
    .option('--controls <file>', "the lab's control mapping for every run's reports (schema/controls.schema.json)")
    .option('--wait <duration>', 'wait this long for a rig held by another job', parseWait, 0)
    .option('--key <file>', 'Ed25519 private key (PEM) to sign every run (or env AIRLOCK_SIGNING_KEY)')
    .option('--json', 'print machine-readable JSON events', false)
    .action((suite: string, o) =>
      guard(async () => (await import('./commands/suite.js')).suiteCommand({ suite, ...o }, io))(),
    );

  program
    .command('compare')
    .description('what run or suite B does that A did not (and what disappeared)')
    .argument('<a>', 'run or suite directory (the reference, e.g. last good build)')
    .argument('<b>', 'run or suite directory (the build under test)')
    .option('--json', 'print JSON instead of Markdown', false)
    .option('--current-threshold <current>', 'report a standby current that rose by more than this (default 20mA)')
    .action((a: string, b: string, o) =>
      guard(async () => {
        const { parseCurrent } = await import('../config/index.js');
        const currentThreshold = o.currentThreshold === undefined ? undefined : parseCurrent(o.currentThreshold);
        return (await import('./commands/compare.js')).compareCommand({ a, b, json: o.json, currentThreshold }, io);
      })(),
    );

  program
    .command('history')
    .description('verdicts per scenario per firmware build over kept suite directories')
    .argument('<dir>', 'directory holding suite directories')
    .option('--out <file>', 'HTML trend page', 'history.html')
    .action((dir: string, o) =>
      guard(async () => (await import('./commands/history.js')).historyCommand({ dir, ...o }, io))(),
    );

  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; every parse error is a usage error.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.pass;
      if (error.code === 'commander.executeSubCommandAsync') return EXIT.pass;
      return EXIT.usage;
    }
    return exitCodeFor(error, io);
  }
  return exitCode;
}
