// The import bridge of scripts/import-cost.ts, in a process of its own so that it can be
// measured alone (under callgrind, or with --cpu-prof): runs startBridge() from the module
// given (the compiled package, dist/bridge/index.js, or another build of it) until `count`
// messages were delivered or refused, then prints one line of JSON: the ms from the first
// delivery it saw to the last, and the process's CPU time.
//
//   node scripts/import-cost-child.mjs NATS_URL MAILBOX COUNT BRIDGE_MODULE WINDOW
import { performance } from 'node:perf_hooks';

const [url, name, countText, modulePath, windowText] = process.argv.slice(2);
const count = Number(countText);
const { startBridge } = await import(modulePath);
const cpuAtStart = process.cpuUsage();
const failures = [];
const onEvent = (event) => {
  if (event.kind === 'error' || event.kind === 'rejected') failures.push(`${event.kind}: ${event.error ?? event.reason}`);
};
const bridge = await startBridge({ servers: url, imports: [name], host: 'machine-b', window: Number(windowText), onEvent });
let first = 0;
let firstCount = 0;
for (;;) {
  const status = bridge.status().imports[name];
  const done = status.delivered + status.rejected;
  if (first === 0 && done > 0) {
    first = performance.now();
    firstCount = done;
  }
  if (done >= count) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const ms = performance.now() - first;
const cpu = process.cpuUsage(cpuAtStart);
const status = bridge.status().imports[name];
await bridge.close();
const timed = count - firstCount;
process.stdout.write(`${JSON.stringify({ ms, timed, rate: timed / (ms / 1000), cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, status, failures })}\n`);
