// The scenarios of `interproc demo`, in the order of the lecture (and of a run without NAME).
import { blocking } from './blocking.ts';
import { buffering } from './buffering.ts';
import { fifo } from './fifo.ts';
import { messageQueue } from './message-queue.ts';
import { ports } from './ports.ts';
import { pipeToChild } from './pipe.ts';
import type { Scenario } from './scenario.ts';
import { shmMutex } from './shm-mutex.ts';
import { shmRace } from './shm-race.ts';
import { timeout } from './timeout.ts';

export const SCENARIOS: readonly Scenario[] = [shmRace, shmMutex, blocking, timeout, buffering, messageQueue, ports, pipeToChild, fifo];
