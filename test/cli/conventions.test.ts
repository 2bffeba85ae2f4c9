// What every command shares (src/cli/command.ts): --help, --debug wherever it is given, the
// exit codes listed in `interproc help`, and failures reported as one line without a stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/commands.ts';
import { EXIT_TIMEOUT, takeDebugOption } from '../../src/cli/command.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

useNamespace('cli-conventions');

test('every command answers --help and -h with its usage on stdout and exit code 0', async () => {
  assert.ok(COMMANDS.length >= 4);
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await runCli([command.name, flag]);
      assert.equal(code, 0, `${command.name} ${flag}: ${stderr}`);
      assert.equal(stderr, '', `${command.name} ${flag}`);
      assert.equal(stdout, command.usage, `${command.name} ${flag}`);
      assert.match(stdout, new RegExp(`^Usage: interproc ${command.name}\\b`));
      assert.match(stdout, /-h, --help/, `${command.name}'s usage lists --help`);
    }
  }
});

test('help lists --debug and the timeout exit code, 124 as timeout(1)', async () => {
  assert.equal(EXIT_TIMEOUT, 124);
  const { code, stdout } = await runCli(['help']);
  assert.equal(code, 0);
  assert.match(stdout, /^\s+--debug\s+.*stack trace/m);
  assert.match(stdout, /^\s+124\s+timeout/m);
});

test('--debug is taken before or after the command, and never after --', async () => {
  for (const args of [['--debug', 'ls'], ['ls', '--debug'], ['ls', '--json', '--debug']]) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
    assert.equal(stderr, '');
  }
  assert.deepEqual(takeDebugOption(['box', '--debug', '--type', '3']), { args: ['box', '--type', '3'], debug: true });
  assert.deepEqual(takeDebugOption(['box', '--', '--debug']), { args: ['box', '--', '--debug'], debug: false });
  assert.deepEqual(takeDebugOption(['box', '--debug=yes']), { args: ['box', '--debug=yes'], debug: false });
});

test('a failure is one line naming the object, without a stack trace', async () => {
  const { code, stdout, stderr } = await runCli(['stat', 'mailbox/nothing-here']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(stderr, /^interproc stat: no mailbox named "nothing-here" in namespace "[^"]+"\n$/);
});
