// A process killed (SIGKILL) at each step of each change to the port table — a claim (with
// and without a number asked for), a release, a reclaim of a dead owner's number during a
// claim and during a sweep — leaves the table consistent: a number is never owned by two
// live threads, a live owner keeps its number through the repair, the killed process's
// number is reusable, and every dead owner's store file goes once its number is reclaimed.
//
// For every step in turn a real helper (test/helpers/port-table-step.ts) runs the change
// with INTERPROC_CRASH_AT naming the step; the test checks that it died of SIGKILL (a
// misspelt or unreached step fails), then, in this process: claims the helper's number
// (taking over the table's lock if the helper died holding it), finds the number of a live
// helper that holds one throughout still its and EADDRINUSE, and after a sweep sees only
// that live helper's number owned and only its store file left.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { objectFileName } from '../../src/core/names.ts';
import { currentPortTable, listPorts, portStoreName } from '../../src/port/port-table.ts';
import { ipcError } from '../support/errors.ts';
import { startHelper, type Helper, remainingLines } from '../support/helper-process.ts';
import { usePortNamespace } from '../support/port-table.ts';

const HELPER_MS = 60_000;
const T = { timeout: 120_000 };
/** The number the live helper holds throughout. */
const HELD = 100;

let holder: Helper;
let heldGeneration = 0;
let kills = 0;

after(async () => {
  holder.send('release');
  await holder.waitFor('released');
  await holder.exited;
  console.log(`port table, kill at each step: ${kills} kills survived`);
});

// After the holder's release is registered, so that the namespace's final check runs after
// it; before the holder starts (a top-level before() runs at once), so that it inherits the namespace.
const namespace = usePortNamespace('port-table-crash');

before(async () => {
  holder = startHelper('port-table-step.ts', ['hold', String(HELD)], { timeoutMs: 10 * 60_000 });
  heldGeneration = Number((await holder.waitFor(/^claimed /)).split(' ')[2]);
});


function storeFile(number: number, generation: number): string {
  return objectFileName('port', portStoreName(number, generation));
}

/** Runs the helper with INTERPROC_CRASH_AT = step; returns the lines it said before dying. */
async function runKilled(step: string, args: string[]): Promise<string[]> {
  const helper = startHelper('port-table-step.ts', args, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: step } });
  const exit = await helper.exited;
  const lines = await remainingLines(helper);
  assert.equal(exit.signal, 'SIGKILL', `${step}: the helper died of SIGKILL (code ${exit.code}, said ${lines.at(-1)})\n${exit.stderr}`);
  assert.ok(!lines.includes('survived'));
  kills++;
  return lines;
}

/** Runs the helper to the end. */
async function runToEnd(args: string[]): Promise<string[]> {
  const helper = startHelper('port-table-step.ts', args, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: '' } });
  const exit = await helper.exited;
  assert.equal(exit.code, 0, exit.stderr);
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await helper.nextLine());
    } catch {
      return lines;
    }
  }
}

/** The checks after a kill; `number`: the killed helper's number, claimed here once. */
function check(where: string, number: number | null): void {
  const table = currentPortTable();
  if (number !== null) {
    const claim = table.claim(number);
    assert.equal(table.lookup(number)?.ownerPid, process.pid, `${where}: ${number} is this process's now`);
    assert.ok(table.release(claim), `${where}: released`);
  }
  assert.throws(() => table.claim(HELD), ipcError('EADDRINUSE'), `${where}: the live holder keeps ${HELD}`);
  table.sweep();
  assert.deepEqual(
    listPorts().map((p) => [p.number, p.ownerPid, p.alive]),
    [[HELD, holder.pid, true]],
    `${where}: only the live holder owns a number`,
  );
  const files = readdirSync('/dev/shm').filter((file) => file.startsWith(`interproc.${namespace}.port.`) && !file.endsWith('.table'));
  assert.deepEqual(files, [storeFile(HELD, heldGeneration)], `${where}: only the live holder's store file is left`);
}

for (const step of ['port-claim:tid', 'port-claim:owner', 'port-claim:published']) {
  test(`a claim of a given number killed at ${step}`, T, async () => {
    await runKilled(step, ['claim', '200']);
    check(step, 200);
  });
}

for (const step of ['port-claim:tid', 'port-claim:owner', 'port-claim:published', 'port-claim:cursor']) {
  test(`a claim of any number killed at ${step}`, T, async () => {
    await runKilled(step, ['claim', 'auto']);
    check(step, null);
  });
}

for (const step of ['port-release:unlinked', 'port-release:freed']) {
  test(`a release killed at ${step}`, T, async () => {
    const lines = await runKilled(step, ['release', '300']);
    const generation = Number(lines[0]!.split(' ')[2]);
    assert.equal(existsSync(`/dev/shm/${storeFile(300, generation)}`), false, 'the store file went first');
    check(step, 300);
  });
}

for (const step of ['port-reclaim:judged', 'port-reclaim:unlinked', 'port-reclaim:freed']) {
  test(`a reclaim by a claim killed at ${step}`, T, async () => {
    const [claimed] = await runToEnd(['claim', '400']);
    assert.match(claimed!, /^claimed 400 /);
    await runKilled(step, ['claim', '400']);
    check(step, 400);
  });

  test(`a reclaim by a sweep killed at ${step}`, T, async () => {
    await runToEnd(['claim', '500']);
    await runKilled(step, ['sweep']);
    check(step, 500);
  });
}

test('the table\'s lock, held by a process killed there, is taken over and the holder\'s half-made claim undone', T, async () => {
  // Killed holding the lock with its own entry published: the next claim of anything
  // sweeps (told ownerDied), so the number is free without anyone asking for it.
  await runKilled('port-claim:published', ['claim', '600']);
  const table = currentPortTable();
  const other = table.claim(601);
  assert.equal(table.lookup(600), null, 'the dead holder\'s entry was reclaimed by the repair');
  assert.ok(table.release(other));
  check('lock holder killed', null);
});
