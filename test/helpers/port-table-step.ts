// One change to the port table, run with INTERPROC_CRASH_AT set by
// test/xproc/port-table-crash-steps.test.ts so that it dies (SIGKILL) at one step of it.
// A claimed number gets a stand-in store file under its generation's name, so the test can
// see who removes it. Says on stdout what completed (sayNow: nothing said is lost to a kill).
//
//   port-table-step.ts claim <number|auto>     claim; "claimed <number> <generation>"; exit without releasing
//   port-table-step.ts release <number>        claim, then release; "claimed ...", "released"
//   port-table-step.ts hold <number>           claim; "claimed ..."; release once the test says "release"
//   port-table-step.ts sweep                   sweep; "swept <count>"
// Then "survived": the step named in INTERPROC_CRASH_AT was never reached.
import { writeFileSync } from 'node:fs';
import { objectFileName } from '../../src/core/names.ts';
import { currentPortTable, portStoreName, type PortClaim } from '../../src/port/port-table.ts';
import { hear, sayNow } from './protocol.ts';

const [command, argument] = process.argv.slice(2);
const table = currentPortTable();

function claim(): PortClaim {
  const taken = table.claim(argument === 'auto' ? undefined : Number(argument));
  writeFileSync(`/dev/shm/${objectFileName('port', portStoreName(taken.number, taken.generation))}`, 'stand-in store');
  sayNow(`claimed ${taken.number} ${taken.generation}`);
  return taken;
}

if (command === 'claim') {
  claim();
} else if (command === 'release') {
  const taken = claim();
  if (!table.release(taken)) throw new Error('release found the entry changed');
  sayNow('released');
} else if (command === 'hold') {
  const taken = claim();
  if ((await hear()) !== 'release') throw new Error('expected "release"');
  if (!table.release(taken)) throw new Error('release found the entry changed');
  sayNow('released');
} else if (command === 'sweep') {
  sayNow(`swept ${table.sweep()}`);
} else {
  throw new Error(`unknown command ${command}`);
}
sayNow('survived');
