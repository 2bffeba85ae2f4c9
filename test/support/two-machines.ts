// Two interproc namespaces on this machine standing in for two machines that share nothing
// but a NATS server: each test file's own pair, cleaned (both before either is judged, so
// that one failure leaves nothing behind) and checked for leftovers at the end.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { leftovers, useNamespace } from './namespace.ts';

export interface TwoMachines {
  /** Machine A's namespace. */
  a: string;
  /** Machine B's namespace. */
  b: string;
}

/** This file's two machines, named after `label`; registers the check for leftovers. */
export function useTwoMachines(label: string): TwoMachines {
  const namespace = useNamespace(label);
  const machines = { a: `${namespace}-a`, b: `${namespace}-b` };
  after(() => {
    const files = [machines.a, machines.b].flatMap((machine) => leftovers(machine));
    for (const file of files) rmSync(`/dev/shm/${file}`, { force: true });
    assert.deepEqual(files, [], 'the machines left shared objects');
  });
  return machines;
}

/** Runs `make` with INTERPROC_NAMESPACE set to `machine` (a handle keeps the namespace it was opened in). */
export function onMachine<R>(machine: string, make: () => R): R {
  const saved = process.env.INTERPROC_NAMESPACE;
  process.env.INTERPROC_NAMESPACE = machine;
  try {
    return make();
  } finally {
    process.env.INTERPROC_NAMESPACE = saved;
  }
}
