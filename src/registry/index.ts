// The registry's surface, for the `interproc` commands (which load it on first use, so that
// `interproc help` and `bench` run without the native addon): enumerate, inspect, resolve
// and remove named objects.
export { isRunningState, removeDeadBridgeStates, UNRESPONSIVE_AFTER_MS, type BridgeState } from './bridge-states.ts';
export { inspectObject, objectPath } from './inspect.ts';
export { listObjects } from './list.ts';
export type { ObjectRecord, ObjectRef, ObjectStatus, ObjectUser } from './object-record.ts';
export { removeObject, removeStale, type StaleRemoval } from './remove.ts';
export { formatRef, KINDS, resolveObject, validateNamespace, type Resolution } from './resolve.ts';
export { isStale } from './staleness.ts';
