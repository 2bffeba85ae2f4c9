// Validation of the options every codec-based receive (Mailbox, Port) and send share.
import { invalidType, optionNames, validateInteger, validateOptions, validateTimeout, type OptionNames } from '../core/validate.ts';
import { deadlineAfter } from '../core/wait.ts';
import { MAX_MESSAGE_TYPE, parseSelector, type SelectorOptions } from './selector.ts';
import type { ReceiveRequest } from './store-handle.ts';

/** The most a receive may poll: one second, in microseconds. */
const MAX_SPIN_US = 1_000_000;

/** options.into: a caller's buffer to receive into, or null for a new one. */
export function validateInto(into: unknown): Uint8Array | null {
  if (into === undefined) return null;
  if (!(into instanceof Uint8Array)) throw invalidType('options.into', 'a Uint8Array', into);
  return into;
}

/** options.spin: microseconds to poll before sleeping; undefined for the adaptive window. */
export function validateSpin(spin: unknown): number | undefined {
  return spin === undefined ? undefined : validateInteger(spin, 'spin', 0, MAX_SPIN_US);
}

/** A message type to send: an integer 0..MAX_MESSAGE_TYPE, default 0. */
export function validateMessageType(type: unknown): number {
  return type === undefined ? 0 : validateInteger(type, 'type', 0, MAX_MESSAGE_TYPE);
}

/** The options of a waiting receive (receive, receiveSync), its signal aside. */
export interface WaitingReceiveOptions extends SelectorOptions {
  into?: Uint8Array;
  timeout?: number;
  spin?: number;
}

/** The options of a receive that does not wait (tryReceive, tryReceiveMany). */
export const TRY_RECEIVE_OPTIONS = optionNames<SelectorOptions & { into?: Uint8Array }>({
  type: true,
  notType: true,
  maxType: true,
  from: true,
  into: true,
});

/** The options of a receive that waits on the event loop (receive, receiveMany). */
export const RECEIVE_OPTIONS = optionNames<WaitingReceiveOptions & { signal?: AbortSignal }>({
  type: true,
  notType: true,
  maxType: true,
  from: true,
  into: true,
  timeout: true,
  spin: true,
  signal: true,
});

/** The options of a receive that blocks the thread (receiveSync): no signal. */
export const RECEIVE_SYNC_OPTIONS = optionNames<WaitingReceiveOptions>({
  type: true,
  notType: true,
  maxType: true,
  from: true,
  into: true,
  timeout: true,
  spin: true,
});

/** A waiting receive's request to its store handle, from the caller's options (whose names must be in `names`). */
export function receiveRequestFrom(options: unknown, names: OptionNames): ReceiveRequest {
  const given = validateOptions<WaitingReceiveOptions>(options, 'options', names);
  const selector = parseSelector(given);
  const deadline = deadlineAfter(validateTimeout(given.timeout));
  return { selector, deadline, into: validateInto(given.into), spin: validateSpin(given.spin) };
}
