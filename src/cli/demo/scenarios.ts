// The scenarios of `interproc demo`, in the order of the lecture (and of a run without NAME).
import type { Scenario } from './scenario.ts';
import { shmRace } from './shm-race.ts';

export const SCENARIOS: readonly Scenario[] = [shmRace];
