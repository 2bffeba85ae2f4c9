// Validation of the options every codec-based receive (Mailbox, Port) and send share.
import { invalidType, validateInteger, validateObject, validateTimeout } from '../core/validate.ts';
import { deadlineAfter } from '../core/wait.ts';
import { MAX_MESSAGE_TYPE, selectorFrom, type SelectorOptions } from './selector.ts';
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

/** A waiting receive's request to its store handle, from the caller's options. */
export function receiveRequestFrom(options: unknown): ReceiveRequest {
  const given = validateObject<WaitingReceiveOptions>(options, 'options');
  const selector = selectorFrom(given);
  const deadline = deadlineAfter(validateTimeout(given.timeout));
  return { selector, deadline, into: validateInto(given.into), spin: validateSpin(given.spin) };
}
