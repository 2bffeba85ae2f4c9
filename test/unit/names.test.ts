import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  currentNamespace,
  DEFAULT_NAMESPACE,
  MAX_NAME_LENGTH,
  objectFileName,
  parseObjectFileName,
  validateName,
  type ObjectKind,
} from '../../src/core/names.ts';
import { IpcError } from '../../src/core/errors.ts';
import { useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('names');

const KINDS: ObjectKind[] = ['shm', 'mailbox', 'mq', 'port'];
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';

/** Names of the grammar: 1-200 characters of [A-Za-z0-9._-], not starting with ".". */
const validName = fc
  .string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: MAX_NAME_LENGTH })
  .filter((name) => !name.startsWith('.'));
const validNamespace = fc.string({ unit: fc.constantFrom(...NAME_CHARS.replace('.', '')), minLength: 1, maxLength: 64 });

function isEinval(error: unknown): boolean {
  return error instanceof IpcError && error.code === 'EINVAL';
}

/** Runs `body` with INTERPROC_NAMESPACE set to `value` (or unset), then restores it. */
function withNamespace<T>(value: string | undefined, body: () => T): T {
  const saved = process.env.INTERPROC_NAMESPACE;
  if (value === undefined) delete process.env.INTERPROC_NAMESPACE;
  else process.env.INTERPROC_NAMESPACE = value;
  try {
    return body();
  } finally {
    process.env.INTERPROC_NAMESPACE = saved;
  }
}

test('validateName accepts every name of the grammar and returns it unchanged', () => {
  for (const name of ['a', 'A', '0', '_', '-', 'a.b', 'a..b', 'a.', 'x'.repeat(MAX_NAME_LENGTH), 'my-seg_01.v2']) {
    assert.equal(validateName(name), name);
  }
  fc.assert(fc.property(validName, (name) => validateName(name) === name));
});

test('validateName rejects names outside the grammar with EINVAL', () => {
  const bad = [
    '',
    '.',
    '..',
    '.hidden',
    'a/b',
    '/a',
    '../x',
    'a b',
    'a\0b',
    'a\n',
    '\na',
    'é',
    'naïve',
    '日本',
    'a:b',
    'a*',
    'x'.repeat(MAX_NAME_LENGTH + 1),
  ];
  for (const name of bad) {
    assert.throws(() => validateName(name), isEinval, JSON.stringify(name));
  }
  // Any string containing a character outside the set is refused.
  fc.assert(
    fc.property(
      fc.string({ maxLength: 20 }),
      fc.string({ minLength: 1, maxLength: 1 }).filter((ch) => !NAME_CHARS.includes(ch)),
      fc.string({ maxLength: 20 }),
      (before, odd, after) => {
        assert.throws(() => validateName(`${before}${odd}${after}`), isEinval);
      },
    ),
  );
});

test('an EINVAL for a long name shows only its beginning', () => {
  const name = `${'y'.repeat(500)}/`;
  assert.throws(
    () => validateName(name),
    (error: unknown) => isEinval(error) && (error as Error).message.length < 300 && (error as Error).message.includes('...'),
  );
});

test('validateName rejects a non-string with TypeError ERR_INVALID_ARG_TYPE', () => {
  for (const value of [undefined, null, 1, 1n, true, {}, [], Symbol('s'), () => 'a', new String('a')]) {
    assert.throws(
      () => validateName(value),
      (error: unknown) => error instanceof TypeError && (error as { code?: string }).code === 'ERR_INVALID_ARG_TYPE',
    );
  }
});

test('the namespace is INTERPROC_NAMESPACE, "default" when unset or empty', () => {
  assert.equal(currentNamespace(), namespace);
  assert.equal(withNamespace(undefined, currentNamespace), DEFAULT_NAMESPACE);
  assert.equal(withNamespace('', currentNamespace), DEFAULT_NAMESPACE);
  assert.equal(withNamespace('x'.repeat(64), currentNamespace), 'x'.repeat(64));
  // Read at each call: a process can switch.
  assert.equal(withNamespace('other_ns-1', () => objectFileName('shm', 'n')), 'interproc.other_ns-1.shm.n');
});

test('an invalid INTERPROC_NAMESPACE fails with EINVAL', () => {
  for (const value of ['a.b', '.', 'a/b', '../x', 'a b', 'é', 'x'.repeat(65)]) {
    assert.throws(() => withNamespace(value, currentNamespace), isEinval, value);
    assert.throws(() => withNamespace(value, () => objectFileName('shm', 'n')), isEinval, value);
  }
});

test('objectFileName is interproc.<namespace>.<kind>.<name>', () => {
  assert.equal(objectFileName('shm', 'seg'), `interproc.${namespace}.shm.seg`);
  assert.equal(objectFileName('mailbox', 'a.b', 'ns'), 'interproc.ns.mailbox.a.b');
  assert.equal(objectFileName('mq', '42', 'ns'), 'interproc.ns.mq.42');
  assert.equal(objectFileName('port', '-', 'ns'), 'interproc.ns.port.-');
  assert.throws(() => objectFileName('shm', '.x', 'ns'), isEinval);
  assert.throws(() => objectFileName('shm', 'a/b', 'ns'), isEinval);
});

test('a name that does not fit in 255 characters with its namespace fails with EINVAL', () => {
  const longNamespace = 'n'.repeat(64);
  for (const kind of KINDS) {
    // 255 = "interproc." + namespace + "." + kind + "." + name
    const room = 255 - 'interproc.'.length - longNamespace.length - 1 - kind.length - 1;
    assert.ok(room < MAX_NAME_LENGTH);
    const fits = 'f'.repeat(room);
    assert.equal(objectFileName(kind, fits, longNamespace).length, 255);
    assert.throws(() => objectFileName(kind, `${fits}f`, longNamespace), isEinval, kind);
    // The same name fits in a short namespace.
    assert.equal(objectFileName(kind, `${fits}f`, 'ns').endsWith(`${fits}f`), true);
  }
  // The longest name fits with a namespace of up to 255 - 200 - 10 - 2 - 7 (mailbox) = 36.
  assert.doesNotThrow(() => objectFileName('mailbox', 'm'.repeat(MAX_NAME_LENGTH), 'n'.repeat(36)));
  assert.throws(() => objectFileName('mailbox', 'm'.repeat(MAX_NAME_LENGTH), 'n'.repeat(37)), isEinval);
});

test('parseObjectFileName gives back what objectFileName was made from', () => {
  fc.assert(
    fc.property(fc.constantFrom(...KINDS), validName, validNamespace, (kind, name, ns) => {
      let fileName: string;
      try {
        fileName = objectFileName(kind, name, ns);
      } catch (error) {
        // Only the 255-character file name limit may refuse a valid name.
        assert.ok(isEinval(error));
        assert.ok(`interproc.${ns}.${kind}.${name}`.length > 255);
        return;
      }
      assert.deepEqual(parseObjectFileName(fileName), { namespace: ns, kind, name });
    }),
  );
});

test('parseObjectFileName returns null for files that are not interproc objects', () => {
  const notOurs = [
    '',
    'interproc',
    'interproc.',
    'interproc.ns',
    'interproc.ns.shm',
    'interproc.ns.shm.',
    'interproc.ns.shm..hidden',
    'interproc.ns.shm.a/b',
    'interproc.ns.shm.a b',
    'interproc.ns.sem.a',
    'interproc.ns.SHM.a',
    'interproc..shm.a',
    `interproc.${'n'.repeat(65)}.shm.a`,
    'Interproc.ns.shm.a',
    'other.ns.shm.a',
    'sem.interproc.ns.shm.a',
    `interproc.ns.shm.${'x'.repeat(MAX_NAME_LENGTH + 1)}`,
  ];
  for (const fileName of notOurs) {
    assert.equal(parseObjectFileName(fileName), null, fileName);
  }
});

test('a dotted name parses with the dots in the name, never in the namespace', () => {
  assert.deepEqual(parseObjectFileName('interproc.ns.shm.a.shm.b'), { namespace: 'ns', kind: 'shm', name: 'a.shm.b' });
  assert.deepEqual(parseObjectFileName('interproc.ns.mq.port.x'), { namespace: 'ns', kind: 'mq', name: 'port.x' });
});
