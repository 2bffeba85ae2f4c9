// Backpressure: a writer process writing 256 MiB as fast as the stream lets it into a
// reader that sleeps after every chunk waits for the reader: write() returns false and
// 'drain' follows, and the writer's resident set stays flat (nothing piles up in its
// stream buffer), while every byte arrives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipe } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-backpressure');

const TIMEOUT_MS = 300_000;
const MEGABYTES = 256;
/**
 * Far less than what is written (a writer ignoring backpressure reached 344 MiB), far more
 * than garbage collection swings by: 1.2 MiB above the median on Node 20 (117 MiB), 53 MiB
 * on Node 26 in CI, whose heap grows in larger steps.
 */
const RSS_SPREAD_LIMIT = 96 * 1024 * 1024;

test(`a fast writer process into a slow reader: ${MEGABYTES} MiB with a flat resident set, write() false then 'drain'`, { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-flood.ts', [String(MEGABYTES)], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS });
  writer.handOff(child.child);
  await child.waitFor('adopted');
  let received = 0;
  for (;;) {
    const chunk = await reader.readBytes(undefined, { signal: t.signal });
    if (chunk === null) break;
    received += chunk.length;
    // The slow reader: the writer outruns it by far.
    await sleep(1);
  }
  reader.close();
  const report = JSON.parse(await child.nextLine()) as { bytes: number; falses: number; drains: number; rss: { min: number; median: number; max: number } };
  await expectSuccess(child);
  assert.equal(received, MEGABYTES * 1024 * 1024, 'every byte arrived');
  assert.equal(report.bytes, received);
  assert.ok(report.falses > 0, 'write() returned false');
  assert.equal(report.drains, report.falses, "'drain' followed every false");
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  t.diagnostic(`writer rss min ${mib(report.rss.min)}, median ${mib(report.rss.median)}, max ${mib(report.rss.max)}; write() false ${report.falses} times`);
  assert.ok(
    report.rss.max - report.rss.median < RSS_SPREAD_LIMIT,
    `the writer's resident set stays flat: median ${mib(report.rss.median)}, max ${mib(report.rss.max)}`,
  );
});
