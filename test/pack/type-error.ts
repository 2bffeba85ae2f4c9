// Must NOT type-check. scripts/pack-test.sh runs tsc on this file alone and requires
// exactly the errors marked "pack-test expects TSnnnn" on their lines, no more and no
// fewer: if the package's types stopped reaching a consumer (say, `any` everywhere), tsc
// would accept this file and the check would fail. Never run.
import { IpcError, Mailbox } from 'interproc';

interface Job {
  id: number;
}

const jobs = Mailbox.open<Job>('never-opened');
await jobs.send({ id: 'one' }); // pack-test expects TS2322

export function isBusy(e: unknown): boolean {
  return e instanceof IpcError && e.code === 'EBUSYY'; // pack-test expects TS2367
}
