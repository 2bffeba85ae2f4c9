import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { startHelper } from '../support/helper-process.ts';
import { leftovers, useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('addon-fuzz');

// FUZZ_SEED replays a run; FUZZ_RUNS makes it longer (FUZZ_VERBOSE=1 logs every call).
const seed = process.env.FUZZ_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED);
const runs = Number(process.env.FUZZ_RUNS ?? 3000);

test('every addon function, called with generated wrong arguments, returns or throws a coded error and never crashes', async () => {
  const fuzzer = startHelper('shm-fuzz-addon.ts', [String(seed), String(runs)], { timeoutMs: 60_000 });
  const replay = `replay with FUZZ_SEED=${seed} FUZZ_RUNS=${runs} (FUZZ_VERBOSE=1 logs every call)`;
  let exit;
  try {
    exit = await fuzzer.exited;
  } catch (error) {
    assert.fail(`the fuzzer hung; ${replay}\n${String(error)}`);
  }
  const { code, signal, stderr } = exit;
  assert.equal(signal, null, `the addon crashed the process (${signal}); ${replay}\n${stderr}`);
  assert.equal(code, 0, `a call broke the addon's contract; ${replay}\n${stderr}`);
  assert.equal(await fuzzer.nextLine(), `seed ${seed}`);
  const summary = await fuzzer.nextLine();
  // Every function was reached both with arguments it must refuse and with arguments that
  // get to its syscall.
  const match = /^ok type=(\d+) range=(\d+) call=(\d+) unreached=(.*)$/.exec(summary);
  assert.ok(match, summary);
  assert.equal(match[4], '-', `functions never called with usable arguments: ${match[4]}; ${replay}`);
  assert.ok(Number(match[1]) + Number(match[2]) + Number(match[3]) >= runs, summary);
  assert.ok(Number(match[1]) > runs / 10 && Number(match[2]) > runs / 10 && Number(match[3]) > runs / 10, summary);
  assert.deepEqual(leftovers(namespace), []);
});

test('writing through a buffer mapped with writable = false does not crash the process', async () => {
  const helper = startHelper('shm-addon-misuse.ts', ['read-only-write'], { timeoutMs: 20_000 });
  const { code, signal, stderr } = await helper.exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, stderr);
  assert.match(await helper.nextLine(), /^(wrote 1|refused E[A-Z]+|refused ERR_[A-Z_]+)$/);
});

test('two async waits registered under one id can both be cancelled, and the process exits', async () => {
  const helper = startHelper('shm-addon-misuse.ts', ['duplicate-wait-id'], { timeoutMs: 20_000 });
  const { code, signal, stderr } = await helper.exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 0, `the helper could not exit: ${stderr}`);
});
