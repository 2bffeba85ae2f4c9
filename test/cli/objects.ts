// Shared by the tests of `interproc ls`, `stat` and `rm`: the JSON they print, parsed, and
// the records of this test file's namespace picked out of it.
import assert from 'node:assert/strict';
import type { ObjectRecord } from '../../src/registry/index.ts';
import { runCli } from './run-cli.ts';

/** Runs `interproc ls --json ...args`, checks it succeeded, and returns its records. */
export async function listJson(...args: string[]): Promise<ObjectRecord[]> {
  const { code, stdout, stderr } = await runCli(['ls', '--json', ...args]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  const records = JSON.parse(stdout) as ObjectRecord[];
  assert.ok(Array.isArray(records));
  return records;
}

/** The record of kind/name (in `namespace`, by default this process's), failing if it is missing. */
export function find(records: ObjectRecord[], kind: string, name: string, namespace = process.env.INTERPROC_NAMESPACE): ObjectRecord {
  const record = records.find((r) => r.kind === kind && r.name === name && r.namespace === namespace);
  assert.ok(record !== undefined, `${kind}/${name} is not listed: ${records.map((r) => `${r.kind}/${r.name}`).join(', ')}`);
  return record;
}

/** "kind/name" of each record, in listing order. */
export function refs(records: ObjectRecord[]): string[] {
  return records.map((record) => `${record.kind}/${record.name}`);
}
