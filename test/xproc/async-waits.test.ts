// Asynchronous futex waits (waitAsync) across processes: many pending waits at once, no
// CPU and few threads while idle, event-loop liveness (ref/unref), cancellation, worker
// threads, and memory that stays mapped while a wait needs it. The cases that depend on
// the native waiter run both with futex_waitv and in the fallback mode
// (INTERPROC_NO_FUTEX_WAITV=1: one waiter thread per word). Up to four tests run at a
// time: each has its own segment and helpers, and every measurement is per process.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedMemory } from '../../src/index.ts';
import { wake, WAKE_ALL, WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN } from '../../src/core/wait.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('async-waits');

const WORDS_PER_WAITV_THREAD = 127;
const MODES = [
  { mode: 'futex_waitv', env: {}, fallback: false },
  { mode: 'fallback', env: { INTERPROC_NO_FUTEX_WAITV: '1' }, fallback: true },
] as const;

let segments = 0;
/** A fresh segment of 512 zeroed words for one test; unlinked and closed on dispose. */
function wordSegment(): { name: string; words: Int32Array } & Disposable {
  const segment = SharedMemory.create(`words-${++segments}`, 2048);
  return {
    name: segment.name!,
    words: new Int32Array(segment.buffer, 0, 512),
    [Symbol.dispose]() {
      segment.unlink();
      segment.close();
    },
  };
}

/** Changes words [0, count) and wakes their waiters; returns the futex waiters woken per word. */
function bumpAndWake(words: Int32Array, count: number): number[] {
  const woken: number[] = [];
  for (let i = 0; i < count; i++) {
    Atomics.add(words, i, 1);
    woken.push(wake(words, i, WAKE_ALL));
  }
  return woken;
}

/** Reads the helper's next line starting with `prefix` and parses the JSON after it. */
async function report<T = Record<string, unknown>>(helper: Helper, prefix: string): Promise<T> {
  const line = await helper.waitFor(new RegExp(`^${prefix} `));
  return JSON.parse(line.slice(prefix.length + 1)) as T;
}

/** Every line the helper prints until it exits. */
async function remainingLines(helper: Helper): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await helper.nextLine());
    } catch {
      return lines;
    }
  }
}

function assertWokenOrChanged(line: string): void {
  assert.ok([`woken ${WAIT_WOKEN}`, `woken ${WAIT_CHANGED}`].includes(line), line);
}

/** Starts helpers (with startHelper's hard timeout) for one test and SIGKILLs whatever is left of them afterwards. */
function helpers(): { start: typeof startHelper } & Disposable {
  const started: Helper[] = [];
  return {
    start(script, args, options) {
      const helper = startHelper(script, args, options);
      started.push(helper);
      return helper;
    },
    [Symbol.dispose]() {
      for (const helper of started) helper.kill('SIGKILL');
    },
  };
}

interface Idle {
  cpuMs: number;
  threads: number;
  waiterThreads: number;
  settled: number;
}

interface Resolved {
  settled: number;
  woken: number;
  changed: number;
  other: number;
  pending: number;
}

describe('asynchronous waits', { concurrency: 4 }, () => {
  const manyCases = [
    { words: 1, wakerProcess: false, ...MODES[0] },
    { words: 300, wakerProcess: true, ...MODES[0] },
    { words: 1, wakerProcess: false, ...MODES[1] },
    { words: 24, wakerProcess: true, ...MODES[1] },
  ];
  for (const { words: wordCount, wakerProcess, mode, env, fallback } of manyCases) {
    const waker = wakerProcess ? 'a second helper process' : 'the test process';
    test(`${mode}: 1,000 waits on ${wordCount} word(s) idle without CPU or a thread per wait, and all resolve when ${waker} wakes them`, async () => {
      using shared = wordSegment();
      using spawned = helpers();
      const helper = spawned.start('wait-many.ts', [shared.name, '1000', String(wordCount)], { env });
      // One waiter thread sleeps on up to 127 words with futex_waitv, on one without.
      const expectedThreads = fallback ? wordCount : Math.ceil(wordCount / WORDS_PER_WAITV_THREAD);
      const waiting = await report<{ pending: number; waiterThreads: number }>(helper, 'waiting');
      assert.equal(waiting.pending, 1000);
      assert.equal(waiting.waiterThreads, expectedThreads);

      helper.send('measure');
      const idle = await report<Idle>(helper, 'idle');
      assert.equal(idle.settled, 0, 'no wait completes while nothing happens');
      assert.ok(idle.cpuMs < 50, `idle for 500 ms with 1,000 pending waits, the process used ${idle.cpuMs} ms of CPU`);
      assert.equal(idle.waiterThreads, expectedThreads);
      // Node's own threads (main, V8 platform, libuv pool, ...) plus the waiter threads:
      // no thread per wait, no thread-pool thread held.
      assert.ok(idle.threads - idle.waiterThreads < 30, `${idle.threads} threads, ${idle.waiterThreads} of them waiters`);
      if (!fallback) assert.ok(idle.threads < 30, `${idle.threads} threads`);

      if (wakerProcess) {
        const wakerHelper = spawned.start('wait-waker.ts', [shared.name, String(wordCount)]);
        await wakerHelper.waitFor(/^woke /);
        await expectSuccess(wakerHelper);
      } else {
        // 1,000 waits on one word are one kernel waiter (at most one: a fallback thread
        // may be between two bounded sleeps).
        const [woken] = bumpAndWake(shared.words, 1);
        if (fallback) assert.ok(woken! <= 1, `${woken} futex waiters for one word`);
        else assert.equal(woken, 1);
      }
      const resolved = await report<Resolved>(helper, 'resolved');
      assert.equal(resolved.settled, 1000);
      assert.equal(resolved.other, 0, 'no wait timed out');
      assert.equal(resolved.woken + resolved.changed, 1000);
      assert.equal(resolved.pending, 0);
      await expectSuccess(helper);
    });
  }

  test('with ref: false a process with nothing else to do ends by itself, its waits still pending', async () => {
    using shared = wordSegment();
    using spawned = helpers();
    // Were a wait referenced, the helper would live until this (shorter) hard timeout.
    const helper = spawned.start('wait-lifetime.ts', [shared.name, 'unref'], { timeoutMs: 20_000 });
    assert.deepEqual(await remainingLines(helper), ['waiting', 'exit {"pending":2}']);
    await expectSuccess(helper);
  });

  for (const { mode, env } of MODES) {
    test(`${mode}: timeouts resolve WAIT_TIMED_OUT, aborts reject ABORT_ERR, a later wake is harmless, a new wait keeps the process alive until woken`, async () => {
      using shared = wordSegment();
      using spawned = helpers();
      const helper = spawned.start('wait-lifetime.ts', [shared.name, 'cancel'], { env });
      assert.deepEqual(await report(helper, 'cancelled'), {
        single: WAIT_TIMED_OUT,
        timedOut: 500,
        pendingBeforeAbort: 500,
        abortCodes: ['ABORT_ERR'],
        preAborted: 'ABORT_ERR',
        pending: 0,
      });
      // Waking words whose waits were all cancelled: nobody in the helper waits on them.
      bumpAndWake(shared.words, 2);
      helper.send('woke');
      await helper.waitFor('waiting again');
      // An unref'd 200 ms timer fires only when something else (the wait) holds the loop open.
      await helper.waitFor('still alive');
      bumpAndWake(shared.words, 1);
      assertWokenOrChanged(await helper.waitFor(/^woken /));
      // The helper ends by itself: no cancelled wait left a ref (or a timer) behind.
      assert.deepEqual(await report(helper, 'exit'), { pending: 0 });
      await expectSuccess(helper);
    });

    test(`${mode}: timeouts and aborts racing wakes from another process settle every wait once`, async () => {
      using shared = wordSegment();
      using spawned = helpers();
      const racer = spawned.start('wait-race.ts', [shared.name], { env });
      await racer.waitFor('ready');
      const waker = spawned.start('wait-waker.ts', [shared.name, '4', '10000']);
      await waker.waitFor(/^woke /);
      await expectSuccess(waker);
      racer.send('stop');
      const done = await report<{ rounds: number; aborted: number; timedOut: number; unexpected: string[]; pending: number }>(
        racer,
        'done',
      );
      assert.deepEqual(done.unexpected, []);
      assert.equal(done.pending, 0);
      assert.ok(done.rounds > 0 && done.aborted > 0 && done.timedOut > 0, JSON.stringify(done));
      assert.deepEqual(await report(racer, 'exit'), { pending: 0 });
      await expectSuccess(racer);
    });
  }

  for (const { mode, env, fallback } of MODES) {
    test(`${mode}: workers' waits are woken from another process; terminating workers with pending waits (also as they are woken) neither crashes nor hangs`, async () => {
      using shared = wordSegment();
      using spawned = helpers();
      const wordCount = fallback ? 8 : 150;
      const perWorker = fallback ? wordCount : Math.ceil(wordCount / WORDS_PER_WAITV_THREAD);
      const helper = spawned.start('wait-workers.ts', [shared.name, String(wordCount)], { env });
      // Each worker has waiter threads of its own; the main thread one for its wait.
      assert.deepEqual(await report(helper, 'waiting'), { workers: [400, 400, 400], waiterThreads: 3 * perWorker + 1, pending: 1 });
      // The terminated worker's waiter threads are gone with it; the others' still wait.
      assert.deepEqual(await report(helper, 'terminated'), { code: 1, waiterThreads: 2 * perWorker + 1 });
      bumpAndWake(shared.words, wordCount);
      const { result, ...resolved } = await report<{ result: number }>(helper, 'resolved');
      assert.deepEqual(resolved, { settled: [400, 400], workerPending: [0, 0], codes: [0, 0], pending: 0 });
      assert.ok(result === WAIT_WOKEN || result === WAIT_CHANGED, String(result));
      const raced = await report<{ codes: number[]; waiterThreads: number; pending: number }>(helper, 'raced');
      assert.equal(raced.codes.length, 2);
      assert.equal(raced.waiterThreads, 1, 'only the main thread keeps its (idle) waiter thread');
      assert.equal(raced.pending, 0);
      await expectSuccess(helper);
    });
  }

  test('a worker of a process that never loads the addon itself is terminated with waits and buffers alive', async () => {
    using shared = wordSegment();
    using spawned = helpers();
    const helper = spawned.start('wait-worker-only.ts', [shared.name]);
    assert.deepEqual(await report(helper, 'done'), { code: 1 });
    await expectSuccess(helper);
  });

  test('a pending wait keeps its memory mapped after the buffer is dropped, and releases it when done', async () => {
    using shared = wordSegment();
    using spawned = helpers();
    const helper = spawned.start('wait-dropped.ts', [shared.name], { execArgv: ['--expose-gc'] });
    // Header and body are two mappings; once dropped and collected only the body, which
    // the wait holds, is left.
    assert.deepEqual(await report(helper, 'waiting'), { before: 2, dropped: 1 });
    bumpAndWake(shared.words, 1);
    const woken = await report<{ result: number; after: number }>(helper, 'woken');
    assert.ok(woken.result === WAIT_WOKEN || woken.result === WAIT_CHANGED, String(woken.result));
    assert.equal(woken.after, 0);
    await expectSuccess(helper);
  });
});
