import { addon } from '../native/addon.ts';

/**
 * The kernel's id of this JavaScript thread (gettid). Modules are instantiated once per
 * thread, so each worker thread has its own value; on the main thread it equals the pid.
 */
export const THREAD_ID: number = addon.gettid();

/** This process's pid, read once: process.pid is a getter, and hot paths stamp every message with it. */
export const PID: number = process.pid;
