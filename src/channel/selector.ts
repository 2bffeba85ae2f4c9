// Which message a receive takes. A selector is at most one type criterion (type, notType
// or maxType) and optionally a sending pid; no selector takes the first message.
import { checkOptionNames, validateInteger, validateObject, type OptionNames } from '../core/validate.ts';
import { IpcError } from '../core/errors.ts';

export const ANY = 0;
export const TYPE = 1; // first message of exactly this type
export const NOT_TYPE = 2; // first message of any other type
export const MAX_TYPE = 3; // lowest type <= value, first among equals (priority)

export const MAX_MESSAGE_TYPE = 0x7fffffff;

export interface SelectorOptions {
  type?: number;
  notType?: number;
  maxType?: number;
  from?: number;
}

export interface Selector {
  kind: number;
  value: number;
  /** pid, 0 = from anyone */
  from: number;
}

export const ANY_SELECTOR: Selector = Object.freeze({ kind: ANY, value: 0, from: 0 });

export function parseSelector(options: SelectorOptions): Selector {
  // Each value is checked before they are counted: a null is a wrong type (TypeError), not
  // a second criterion (EINVAL).
  const type = optionalType(options.type, 'type');
  const notType = optionalType(options.notType, 'notType');
  const maxType = optionalType(options.maxType, 'maxType');
  const pid = options.from === undefined ? 0 : validateInteger(options.from, 'from', 1, 0x7fffffff);
  const given = (type === undefined ? 0 : 1) + (notType === undefined ? 0 : 1) + (maxType === undefined ? 0 : 1);
  if (given > 1) throw new IpcError('EINVAL', 'give at most one of type, notType and maxType');
  if (type !== undefined) return { kind: TYPE, value: type, from: pid };
  if (notType !== undefined) return { kind: NOT_TYPE, value: notType, from: pid };
  if (maxType !== undefined) return { kind: MAX_TYPE, value: maxType, from: pid };
  return pid === 0 ? ANY_SELECTOR : { kind: ANY, value: 0, from: pid };
}

function optionalType(value: unknown, name: string): number | undefined {
  return value === undefined ? undefined : validateInteger(value, name, 0, MAX_MESSAGE_TYPE);
}

/** The selector in a call's `options`, whose names must all be in `names` (the call's: a selector and more). */
export function selectorFrom(options: unknown, names: OptionNames): Selector {
  if (options === undefined) return ANY_SELECTOR; // the common case, without allocating
  const given = validateObject<SelectorOptions>(options, 'options');
  checkOptionNames(given, names);
  return parseSelector(given);
}

/** Whether a message of `type` from `pid` satisfies the selector's criteria (maxType: any type <= value). */
export function matches(selector: Selector, type: number, pid: number): boolean {
  if (selector.from !== 0 && pid !== selector.from) return false;
  switch (selector.kind) {
    case ANY:
      return true;
    case TYPE:
      return type === selector.value;
    case NOT_TYPE:
      return type !== selector.value;
    case MAX_TYPE:
      return type <= selector.value;
    default:
      return false;
  }
}

/**
 * Whether the selector takes the oldest queued message, knowing only that message (its
 * `type` and `pid`): it must match, and for maxType, whose lowest type wins, be of type
 * 0, the lowest there is; any later message of a lower type would come first otherwise.
 */
export function takesOldest(selector: Selector, type: number, pid: number): boolean {
  return matches(selector, type, pid) && (selector.kind !== MAX_TYPE || type === 0);
}
