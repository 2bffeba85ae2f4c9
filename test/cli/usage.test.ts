// The command line's surface: help, --version, and how a wrong command line fails (exit
// code 2, a message on stderr, nothing on stdout, nothing done).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

useNamespace('cli-usage');

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The first word of each line of the usage's "Commands:" section. */
function listedCommands(usage: string): string[] {
  const section = usage.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
  return section.split('\n').map((line) => line.trim().split(/\s+/)[0]!);
}

test('help lists the commands that exist, the options and the exit codes', async () => {
  for (const args of [['help'], ['--help'], ['-h']]) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    assert.match(stdout, /^Usage: interproc <command>/);
    assert.deepEqual(listedCommands(stdout), ['ls', 'stat', 'rm', 'send', 'recv', 'top', 'bridge', 'bench', 'demo', 'help']);
    assert.match(stdout, /--version/);
    assert.match(stdout, /Exit codes:\n\s+0\s+success\n\s+1\s+failure.*\n\s+2\s+usage error/);
  }
});

test("help for a command prints that command's options, as does COMMAND --help", async () => {
  for (const args of [['help', 'bench'], ['bench', '--help'], ['bench', '-h']]) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Usage: interproc bench /);
    for (const option of ['--quick', '--runs N', '--only', '--out DIR', '--render', '--profile-helpers']) assert.ok(stdout.includes(option), option);
    // Where results go by default, in a checkout and in an installed package.
    assert.match(stdout, /bench\/results/);
    assert.match(stdout, /interproc-bench-results/);
  }
});

test("--version prints package.json's version", async () => {
  for (const args of [['--version'], ['-v']]) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${version}\n`);
  }
});

test('an unknown command fails with exit code 2 and says which', async () => {
  const { code, stdout, stderr } = await runCli(['frobnicate']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /^interproc: unknown command 'frobnicate'\n.*interproc help/);
});

test('no command at all is a usage error: the usage goes to stderr', async () => {
  const { code, stdout, stderr } = await runCli([]);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /^Usage: interproc <command>/);
});

test('help for something that is not a command fails with exit code 2', async () => {
  const { code, stderr } = await runCli(['help', 'frobnicate']);
  assert.equal(code, 2);
  assert.match(stderr, /'frobnicate': not a command/);
});

test('a bad option fails with exit code 2 before anything is compiled or run', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /^interproc: unknown option '--frobnicate'/],
    [['bench', '--frobnicate'], /^interproc bench: unknown option '--frobnicate'\n.*interproc help bench/],
    [['bench', '--runs'], /^interproc bench: option '--runs <value>' argument missing/],
    [['bench', '--runs', '0'], /^interproc bench: --runs takes a whole number/],
    [['bench', '--runs=many'], /^interproc bench: --runs takes a whole number/],
    [['bench', '--only', ','], /^interproc bench: --only takes figure ids/],
    [['bench', '--quick=yes'], /^interproc bench: option '--quick' does not take an argument/],
    [['bench', 'now'], /^interproc bench: unexpected argument 'now'/],
    [['bench', '--render', 'old.json', '--quick'], /^interproc bench: --render measures nothing/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '', args.join(' '));
    assert.match(stderr, message, args.join(' '));
    assert.doesNotMatch(stderr, /compiling/, args.join(' '));
  }
});

test('help for ls, stat and rm prints their options', async () => {
  const expected: Record<string, string[]> = {
    ls: ['--json', '--namespace NS', '--all-namespaces'],
    stat: ['NAME', '--json', '--namespace NS', 'KIND/NAME'],
    rm: ['NAME...', '--stale', '--dry-run', '--namespace NS', '--all-namespaces', 'EIDRM'],
  };
  for (const [command, options] of Object.entries(expected)) {
    const { code, stdout, stderr } = await runCli(['help', command]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^Usage: interproc ${command} `));
    for (const option of options) assert.ok(stdout.includes(option), `${command}: ${option}`);
  }
});
