// Rings many bells that nobody drains, from one thread: each bell's queue fills (11
// datagrams with the default net.unix.max_dgram_qlen of 10), and the unread datagrams of
// all of them together are more than one socket's send buffer holds (about 270). The
// receivers are plain-JavaScript workers that load the addon themselves and block in
// Atomics.wait, so their event loops cannot drain until released.
// Says "rings <results>" (per receiver, the doorbellRing results of `per` rings, comma-
// separated, receivers separated by spaces) and then "drained <count>/<overflowed>" per
// receiver once released (the first delivery each receiver got).
// Usage: doorbell-flood.ts <receivers> <per>
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { addon } from '../../src/native/addon.ts';
import { say } from './protocol.ts';

const [receivers, per] = process.argv.slice(2).map(Number) as [number, number];
const ADDON = fileURLToPath(new URL('../../build/Release/interproc.node', import.meta.url));
const BODY = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(${JSON.stringify(ADDON)});
const gate = new Int32Array(workerData);
const tid = addon.doorbellOpen((tokens, count, overflowed) => {
  parentPort.postMessage('drained ' + count + '/' + overflowed);
  addon.doorbellRef(false);
});
addon.doorbellRef(true);
parentPort.postMessage('tid ' + tid);
Atomics.wait(gate, 0, 0);
`;

const gate = new SharedArrayBuffer(4);
const workers = Array.from({ length: receivers }, () => new Worker(BODY, { eval: true, workerData: gate }));
function next(worker: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}
const tids = await Promise.all(workers.map(async (worker) => Number((await next(worker)).split(' ')[1])));
// Every receiver is blocked (or about to block) in Atomics.wait: its loop drains nothing.
const results = tids.map((tid) => Array.from({ length: per }, (_, i) => addon.doorbellRing(tid, i + 1)).join(','));
say(`rings ${results.join(' ')}`);
const drained = workers.map(next);
Atomics.store(new Int32Array(gate), 0, 1);
Atomics.notify(new Int32Array(gate), 0);
say(`drained ${(await Promise.all(drained)).map((line) => line.split(' ')[1]).join(' ')}`);
