// Validation of the options every codec-based receive (Mailbox, Port) and send share.
import { invalidType, validateInteger } from '../core/validate.ts';
import { MAX_MESSAGE_TYPE } from './selector.ts';

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
