// Whose objects a process is willing to use. /dev/shm is writable by every local user, so
// a name can be taken by anyone first: another user may make a valid object under a name
// this process means to use (the pre-creation attack), then read what this process writes
// into it and write what it reads. Opening checks who owns the file (fstat), and by default
// accepts only this process's effective user and root; `trustedUids` widens or narrows
// that, and 'any' turns the check off for objects shared between users on purpose.
// docs/SECURITY.md describes the threat model.
import { IpcError } from './errors.ts';
import { invalidType, validateInteger } from './validate.ts';

/** The uids whose objects an open accepts, or 'any'. */
export type TrustedUids = readonly number[] | 'any';

const MAX_UID = 0xfffffffe;

/** Checks a `trustedUids` option; undefined gives the default: this effective user and root. */
export function validateTrustedUids(value: unknown, name = 'options.trustedUids'): TrustedUids {
  if (value === undefined) return [process.geteuid!(), 0];
  if (value === 'any') return 'any';
  if (!Array.isArray(value)) throw invalidType(name, "an array of uids or 'any'", value);
  return value.map((uid, index) => validateInteger(uid, `${name}[${index}]`, 0, MAX_UID));
}

/** EPERM unless the file's owner is trusted. */
export function checkOwner(ownerUid: number, trusted: TrustedUids, what: string): void {
  if (trusted === 'any' || trusted.includes(ownerUid)) return;
  throw new IpcError(
    'EPERM',
    `${what} belongs to uid ${ownerUid}, which this process does not trust (trusted: ${trusted.join(', ')}); ` +
      `pass trustedUids to open another user's object`,
  );
}
