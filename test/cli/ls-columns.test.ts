// `interproc ls -o COLUMNS`: the columns picked, in the order given, for every kind of object
// in one table; an unknown column is a usage error that lists the known ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, MessageQueue, SharedMemory } from '../../src/index.ts';
import { LS_COLUMNS } from '../../src/cli/ls-columns.ts';
import { EXIT_USAGE } from '../../src/cli/command.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

const namespace = useNamespace('cli-ls-columns');

test('ls -o prints the columns named, in that order, one table for every kind', async () => {
  const jobs = Mailbox.create('jobs', { capacity: 10, codec: 'json' });
  const segment = SharedMemory.create('scores', 4096);
  const queue = MessageQueue.open(42, { create: true, exclusive: true });
  try {
    // '{"job":0}' is 9 bytes.
    await jobs.send({ job: 0 });
    await jobs.send({ job: 1 });
    await queue.send(3, 'abc');

    const { code, stdout, stderr } = await runCli(['ls', '-o', 'kind,name,messages,bytes,codec,pid,status']);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND +NAME +MESSAGES +BYTES +CODEC +PID +STATUS$/);
    assert.match(lines[1]!, new RegExp(`^shm +scores +- +- +- +${process.pid} +ok$`));
    assert.match(lines[2]!, new RegExp(`^mailbox +jobs +2 +18 +json +${process.pid} +ok$`));
    assert.match(lines[3]!, new RegExp(`^mq +0x0000002a +1 +3 +bytes +${process.pid} +ok$`));
    assert.equal(lines.length, 4);

    // Upper case as ps takes it, repeated columns, the long option and --all-namespaces.
    const again = await runCli(['ls', '--output=NAME,name', '--all-namespaces']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^NAME +NAME\n/);
    assert.match(again.stdout, /\njobs +jobs\n/);

    // Several -o add up, as ps -o does: none is dropped.
    const several = await runCli(['ls', '-o', 'kind', '-o', 'name,codec']);
    assert.equal(several.code, 0, several.stderr);
    assert.match(several.stdout, /^KIND +NAME +CODEC\n/);
    assert.match(several.stdout, /\nmailbox +jobs +json\n/);

    const all = await runCli(['ls', '-o', LS_COLUMNS.map((column) => column.name).join(','), '-n', namespace]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.split('\n')[0]!.trim().split(/ +/).length, LS_COLUMNS.length);
  } finally {
    jobs.unlink();
    jobs.close();
    segment.unlink();
    segment.close();
    queue.remove();
    queue.close();
  }
});

test('ls -o with an unknown column, no column or together with --json is a usage error', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['ls', '-o', 'kind,colour'], /^interproc ls: unknown column 'colour' in -o: use namespace, kind, name, pid, /],
    [['ls', '-o', 'kind,,name'], /^interproc ls: -o takes column names separated by commas/],
    [['ls', '-o', ''], /^interproc ls: -o takes column names separated by commas/],
    [['ls', '-o'], /^interproc ls: option '-o, --output <value>' argument missing/],
    [['ls', '-o', 'name', '--json'], /^interproc ls: give --json \(every field\) or -o COLUMNS, not both/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, EXIT_USAGE, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr, message, args.join(' '));
  }
});
