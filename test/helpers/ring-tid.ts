// Says "tid <kernel thread id>" and ends: in a helper process (its pid) or a worker thread
// (a thread id of the test's own process). Once it has ended, that id belongs to nobody:
// the claimer word of a ring slot holding it names a dead sender (or receiver).
import { THREAD_ID } from '../../src/core/thread-id.ts';
import { say } from './stress-channel.ts';

say(`tid ${THREAD_ID}`);
