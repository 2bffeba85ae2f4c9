// The error shapes tests expect, for assert.throws / assert.rejects.
import assert from 'node:assert/strict';
import { IpcError } from '../../src/index.ts';

/** An IpcError with this errno-named code. */
export function ipcError(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof IpcError, `expected an IpcError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

export const abortError = { name: 'AbortError', code: 'ABORT_ERR' };
export const typeError = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
export const rangeError = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
