// Argument checks with Node's own error shapes: TypeError ERR_INVALID_ARG_TYPE for a wrong
// type, RangeError ERR_OUT_OF_RANGE for a number outside its range, TypeError
// ERR_INVALID_ARG_VALUE for an options object with a name the call does not know. Every
// public entry point checks its arguments here, before it touches shared memory.

class NodeTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE';
}

class NodeRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
}

class NodeArgValueError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
}

class NodeReturnValueError extends TypeError {
  readonly code = 'ERR_INVALID_RETURN_VALUE';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : 'an object';
  }
  let shown = String(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  if (typeof value === 'string') shown = `'${shown}'`;
  return `type ${typeof value} (${shown})`;
}

export function invalidType(name: string, expected: string, value: unknown, options?: { cause?: unknown }): TypeError {
  return new NodeTypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`, options);
}

/** As invalidType, for a value that may be a secret (a password, a token, a key): only its type is named. */
export function invalidSecretType(name: string, expected: string, value: unknown): TypeError {
  const shown = value === null || typeof value === 'object' || typeof value === 'function' ? describe(value) : `type ${typeof value}`;
  return new NodeTypeError(`The "${name}" argument must be ${expected}. Received ${shown}`);
}

/** A function the caller supplied (a custom codec's) returned the wrong kind of value, as Node says it. */
export function invalidReturnValue(expected: string, functionName: string, value: unknown): TypeError {
  return new NodeReturnValueError(`Expected ${expected} to be returned from the "${functionName}" function but got ${describe(value)}.`);
}

export function outOfRange(name: string, range: string, value: unknown): RangeError {
  return new NodeRangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);
}

export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

export function validateString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidType(name, 'of type string', value);
  return value;
}

export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'of type boolean', value);
  return value;
}

export function validateObject<T extends object>(value: unknown, name: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidType(name, 'of type object', value);
  }
  return value as Partial<T>;
}

/**
 * The option names one call takes. Made from a record with every key of the call's options
 * type (`optionNames<SendOptions>({ type: true, ... })`), so that the compiler fails when
 * the type gains an option the list lacks, or the list names one the type does not have.
 */
export interface OptionNames {
  /**
   * The names, each `true`: the record given, kept as the plain object it is (a lookup in
   * it is several times faster than in a Set or a null-prototype dictionary). An inherited
   * name ('toString', '__proto__') is no `true`, so it is never taken for an option.
   */
  readonly known: Readonly<Record<string, unknown>>;
  /** The names as an error lists them: 'type', 'timeout'. */
  readonly listed: string;
}

export function optionNames<T extends object>(names: Record<keyof T & string, true>): OptionNames {
  return Object.freeze({
    known: Object.freeze(names),
    listed: Object.keys(names)
      .map((key) => `'${key}'`)
      .join(', '),
  });
}

/**
 * Throws TypeError ERR_INVALID_ARG_VALUE for a name in `given` (own or inherited, as a
 * destructuring would read it) that the call does not take: a misspelt option would
 * otherwise be ignored, and a misspelt selector would take any message. One lookup per
 * name given, on every call that has options: cheap enough for receive's hot path.
 */
export function checkOptionNames(given: object, names: OptionNames, name = 'options'): void {
  for (const key in given) {
    if (names.known[key] !== true) throw unknownOption(name, key, names);
  }
}

function unknownOption(name: string, key: string, names: OptionNames): TypeError {
  let shown = key.length > 40 ? `${key.slice(0, 37)}...` : key;
  shown = JSON.stringify(shown);
  return new NodeArgValueError(`The "${name}" argument has an unknown option ${shown}. Known options: ${names.listed}`);
}

/** validateObject() for an options object, whose names must all be in `names` (see checkOptionNames). */
export function validateOptions<T extends object>(value: unknown, name: string, names: OptionNames): Partial<T> {
  const given = validateObject<T>(value, name);
  if (value !== undefined) checkOptionNames(given, names, name);
  return given;
}

export function validateSharedArrayBuffer(value: unknown, name: string): SharedArrayBuffer {
  if (!(value instanceof SharedArrayBuffer)) throw invalidType(name, 'an instance of SharedArrayBuffer', value);
  return value;
}

/** A file mode: permission bits only (no file type, no set-id bits). */
export function validateMode(value: unknown, name = 'mode'): number {
  return validateInteger(value, name, 0, 0o777);
}

/** A timeout in milliseconds: a number >= 0, or Infinity for none. undefined = none. */
export function validateTimeout(value: unknown, name = 'timeout'): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (Number.isNaN(value) || value < 0) throw outOfRange(name, '>= 0', value);
  return value;
}

export function validateSignal(value: unknown, name = 'signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidType(name, 'an instance of AbortSignal', value);
  return value;
}
