// Calls every function of the native addon with generated wrong (and nearly right)
// arguments, and checks each call against a model of the addon's argument checks:
//   - the first argument of the wrong type: TypeError, code ERR_INVALID_ARG_TYPE;
//   - else the first number out of range (or not an integer): RangeError, ERR_OUT_OF_RANGE;
//   - else the syscall runs: it returns a value of the right shape, or throws an Error
//     whose code is errno's name (with `errno` and `syscall`).
// It runs in a process of its own, so that a crash fails the test instead of the runner.
// Prints "seed <n>" first and "ok <calls>" last; on a failure prints fast-check's report
// (seed, path, counterexample) to stderr and exits 1. FUZZ_VERBOSE=1 logs every call to
// stderr before it is made, to find the call that crashed the process.
//
// Harmless by construction: shmOpen/shmUnlink only touch names under this test's
// namespace, mkfifo only a fresh temporary directory, and ftruncate/fchmod/allocate only
// descriptors this helper made (any other in-range fd becomes one that is surely closed);
// allocate and ftruncate on those are kept to 1 MiB. futexWait never blocks for long: when
// the word holds the expected value its timeout is cut to at most 5 ms. Every wait asyncWait
// registers is cancelled at once, so the process must still exit by itself at the end.
// doorbellRing only rings this process's own bell or an address no thread can have (no
// other process's bell), and every doorbellRef(true) is undone at once.
// Usage: shm-fuzz-addon.ts <seed> <runs>
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inspect, types } from 'node:util';
import fc from 'fast-check';
import { addon } from '../../src/native/addon.ts';
import { say } from './protocol.ts';

const seed = Number(process.argv[2]);
const numRuns = Number(process.argv[3]);
say(`seed ${seed}`);
const verbose = process.env.FUZZ_VERBOSE !== undefined;

const MAX_FD = 0x7fffffff;
const MAX_MAP = 2 ** 46;
const MAX_MODE = 0o7777;
const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;
const INT_MAX = 2 ** 31 - 1;
const BAD_FD = MAX_FD - 1; // far above any RLIMIT_NOFILE: always EBADF
const SAFE_BYTES = 1 << 20;

// The functions this helper knows how to call. A function added to the addon must be added
// here (with a model of its checks) before this test passes again.
const FUNCTIONS = [
  'shmOpen', 'shmUnlink', 'memfdCreate', 'ftruncate', 'fchmod', 'fstat', 'allocate', 'punchHole', 'mapShared', 'sealShrink', 'close',
  'mkfifo', 'gettid', 'futexWait', 'futexWake', 'asyncWaitInit', 'asyncWait', 'asyncCancel',
  'doorbellOpen', 'doorbellRef', 'doorbellRing',
];
const missing = FUNCTIONS.filter((name) => typeof (addon as unknown as Record<string, unknown>)[name] !== 'function');
const extra = Object.keys(addon).filter((name) => !FUNCTIONS.includes(name));
if (missing.length > 0 || extra.length > 0) {
  throw new Error(`the addon's functions changed: missing ${missing.join(', ') || '-'}; not fuzzed ${extra.join(', ') || '-'}`);
}

// ---------------------------------------------------------------- resources it may touch
const namespace = process.env.INTERPROC_NAMESPACE ?? 'default';
const SHM_PREFIX = `interproc.${namespace}.fuzz-`;
const dir = mkdtempSync(`${tmpdir()}/interproc-fuzz-`);
const memfds = [0, 1, 2].map((i) => {
  const fd = addon.memfdCreate(`fuzz-${i}`);
  addon.ftruncate(fd, 4096 * (i + 1));
  return fd;
});
// Mapped and read by this helper, so never shrunk (a read past the end would be SIGBUS):
// not one of ownFds, which the fuzzed ftruncate calls may shrink.
const mappedFd = addon.memfdCreate('fuzz-mapped');
addon.ftruncate(mappedFd, 4096);
addon.mkfifo(`${dir}/fifo`, 0o600);
const fifo = openSync(`${dir}/fifo`, constants.O_RDWR | constants.O_NONBLOCK);
const ownFds = [...memfds, fifo];
const directory = openSync(dir, 'r');
const mappedMemfd = addon.mapShared(mappedFd, 0, 4096);
const opened: number[] = []; // descriptors the fuzzed calls returned, closed at the end

const sabs = [0, 1, 3, 4, 7, 8, 64].map((size) => new SharedArrayBuffer(size));
const filled = new SharedArrayBuffer(64);
new Uint32Array(filled).fill(0xfffffffe);

// ---------------------------------------------------------------- values
class ThrowsOnUse {
  valueOf(): never {
    throw new Error('the addon coerced an argument (valueOf)');
  }
  toString(): never {
    throw new Error('the addon coerced an argument (toString)');
  }
}
const junkValues: unknown[] = [
  undefined, null, true, false, NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1.5, 2 ** 31, 2 ** 32,
  2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e300, '', '0', '3', 'abc', '\0', 'a\0b',
  [], [1], {}, Symbol('s'), 10n, -1n, () => {}, new Date(0), /re/, new ArrayBuffer(8), new Uint8Array(8),
  new Int32Array(new SharedArrayBuffer(8)), new DataView(new SharedArrayBuffer(8)), new Number(3),
  new String('x'), new Boolean(true), Object.create(null), new ThrowsOnUse(),
  new Proxy(new SharedArrayBuffer(8), {}), new Proxy({}, { get: () => { throw new Error('proxy get'); } }),
];
const junk = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...junkValues) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
);
function near<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary }, { weight: 1, arbitrary: junk });
}

const anyNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 46, 2 ** 46 + 1, 2 ** 53, 1e300),
  fc.double(),
);
const fd = near(
  fc.oneof(fc.constantFrom(...ownFds, directory, 0, 1, 2, BAD_FD, MAX_FD, MAX_FD + 1, -1), fc.integer({ min: -2, max: 64 }), anyNumber),
);
const size = near(fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.constantFrom(0, 1, 255, 256, 4096, 4097, 8192), anyNumber));
const mode = near(fc.oneof(fc.integer({ min: -1, max: MAX_MODE + 1 }), anyNumber));
const flags = near(
  fc.oneof(
    fc.constantFrom(
      constants.O_RDONLY,
      constants.O_RDWR,
      constants.O_RDWR | constants.O_CREAT,
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
      constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
      constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECTORY,
    ),
    fc.integer({ min: -1, max: MAX_FD }),
    anyNumber,
  ),
);
const text = near(
  fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', 'x\0y', '\0', '/', 'a/b', '..', '.', 'x'.repeat(300))),
);
const buffer = near(fc.constantFrom(...sabs, filled, mappedMemfd));
const offset = near(fc.oneof(fc.integer({ min: -8, max: 72 }).map((n) => n - (n % 4)), fc.integer({ min: -8, max: 72 }), anyNumber));
const expected = near(fc.oneof(fc.constant(0), fc.constant(0xfffffffe), fc.constant(-2), fc.integer({ min: INT32_MIN - 2, max: UINT32_MAX + 2 }), anyNumber));
const timeout = near(fc.oneof(fc.constantFrom(0, -0, 1, 0.5, 1e-9, 5, -1, NaN, Infinity, -Infinity, 1e15, 1e300), fc.double()));
const count = near(fc.oneof(fc.integer({ min: -1, max: INT_MAX + 1 }), anyNumber));
const id = near(fc.oneof(fc.integer({ min: -1, max: UINT32_MAX + 1 }), anyNumber));
const anything = fc.oneof(fc.boolean(), junk);
const callback = near(fc.constantFrom(() => {}, function named() {}, Math.max));
const flag = near(fc.boolean());
const tid = near(fc.oneof(fc.constantFrom(process.pid, 0, -1, INT_MAX, INT_MAX + 1), fc.integer({ min: -1, max: INT_MAX + 1 }), anyNumber));

// ---------------------------------------------------------------- the model of the checks
type Check =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number' }
  | { kind: 'string' }
  | { kind: 'word' } // a SharedArrayBuffer and a byte offset (two arguments)
  | { kind: 'function' }
  | { kind: 'boolean' }
  | { kind: 'any' };
type Verdict = 'type' | 'range' | 'call';

const int = (min: number, max: number): Check => ({ kind: 'int', min, max });
const FD = int(0, MAX_FD);

function judgeInt(value: unknown, min: number, max: number): Verdict {
  if (typeof value !== 'number') return 'type';
  return Number.isInteger(value) && value >= min && value <= max ? 'call' : 'range';
}

function judge(checks: Check[], args: unknown[]): Verdict {
  let index = 0;
  for (const check of checks) {
    const value = args[index];
    let verdict: Verdict = 'call';
    switch (check.kind) {
      case 'int':
        verdict = judgeInt(value, check.min, check.max);
        break;
      case 'number':
        verdict = typeof value === 'number' ? 'call' : 'type';
        break;
      case 'string':
        verdict = typeof value !== 'string' || value.includes('\0') ? 'type' : 'call';
        break;
      case 'function':
        verdict = typeof value === 'function' ? 'call' : 'type';
        break;
      case 'boolean':
        verdict = typeof value === 'boolean' ? 'call' : 'type';
        break;
      case 'word': {
        if (!types.isSharedArrayBuffer(value)) return 'type';
        const length = value.byteLength;
        if (length < 4) return 'range';
        verdict = judgeInt(args[index + 1], 0, length - 4);
        if (verdict === 'call' && (args[index + 1] as number) % 4 !== 0) verdict = 'range';
        index++;
        break;
      }
      case 'any':
        break;
    }
    if (verdict !== 'call') return verdict;
    index++;
  }
  return 'call';
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function wordOf(args: unknown[]): number {
  return new Uint32Array(args[0] as SharedArrayBuffer, args[1] as number, 1)[0]!;
}

// ---------------------------------------------------------------- the functions
interface Target {
  checks: Check[];
  args: fc.Arbitrary<unknown>[];
  /** Makes a call harmless (see the header); runs only when the model says it will reach the syscall. */
  defuse?(args: unknown[]): void;
  /** Checks what a call that returned gave back (and releases what it made). */
  result(value: unknown, args: unknown[]): void;
}

const safeFd = (args: unknown[], index: number): void => {
  if (isInt(args[index], 0, MAX_FD) && !ownFds.includes(args[index] as number)) args[index] = BAD_FD;
};
const smallSize = (args: unknown[], index: number): void => {
  if (isInt(args[index], 0, MAX_MAP) && (args[index] as number) > SAFE_BYTES) args[index] = ((args[index] as number) % SAFE_BYTES) + 1;
};
const nothing = (value: unknown): void => assert(value === undefined, 'returns undefined');
const newFd = (value: unknown): void => {
  assert(isInt(value, 0, MAX_FD), 'returns a file descriptor');
  opened.push(value as number);
};

function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`expected: ${what}`);
}

const targets: Record<string, Target> = {
  shmOpen: {
    checks: [{ kind: 'string' }, int(0, MAX_FD), int(0, MAX_MODE)],
    args: [text, flags, mode],
    defuse(args) {
      args[0] = `/${SHM_PREFIX}${args[0] as string}`;
    },
    result: newFd,
  },
  shmUnlink: {
    checks: [{ kind: 'string' }],
    args: [text],
    defuse(args) {
      args[0] = `/${SHM_PREFIX}${args[0] as string}`;
    },
    result: nothing,
  },
  memfdCreate: { checks: [{ kind: 'string' }], args: [text], result: newFd },
  ftruncate: {
    checks: [FD, int(0, MAX_MAP)],
    args: [fd, size],
    defuse(args) {
      safeFd(args, 0);
      smallSize(args, 1);
    },
    result: nothing,
  },
  fchmod: {
    checks: [FD, int(0, MAX_MODE)],
    args: [fd, mode],
    defuse(args) {
      safeFd(args, 0);
    },
    result: nothing,
  },
  fstat: {
    checks: [FD],
    args: [fd],
    result(value) {
      const status = value as Record<string, unknown>;
      assert(['size', 'mode', 'uid', 'gid'].every((key) => typeof status[key] === 'number'), 'returns { size, mode, uid, gid }');
    },
  },
  allocate: {
    checks: [FD, int(0, MAX_MAP), int(1, MAX_MAP)],
    args: [fd, size, size],
    defuse(args) {
      safeFd(args, 0);
      smallSize(args, 1);
      smallSize(args, 2);
    },
    result: nothing,
  },
  punchHole: {
    checks: [FD, int(0, MAX_MAP), int(1, MAX_MAP)],
    args: [fd, size, size],
    defuse(args) {
      safeFd(args, 0);
    },
    result: nothing,
  },
  sealShrink: {
    checks: [FD],
    args: [fd],
    // A sealed memfd of the fuzzer's could no longer be shrunk by the fuzzed ftruncate.
    defuse(args) {
      if (isInt(args[0], 0, MAX_FD)) args[0] = BAD_FD;
    },
    result: nothing,
  },
  close: {
    checks: [FD],
    args: [fd],
    // Closing a descriptor the fuzzer (or Node) still uses would break the run: only ever
    // a descriptor that cannot be open.
    defuse(args) {
      if (isInt(args[0], 0, MAX_FD)) args[0] = BAD_FD;
    },
    result: nothing,
  },
  mapShared: {
    checks: [FD, int(0, MAX_MAP), int(1, MAX_MAP), { kind: 'any' }],
    args: [fd, size, size, anything],
    result(value, args) {
      assert(types.isSharedArrayBuffer(value), 'returns a SharedArrayBuffer');
      assert((value as SharedArrayBuffer).byteLength === args[2], 'of the length asked for');
    },
  },
  mkfifo: {
    checks: [{ kind: 'string' }, int(0, MAX_MODE)],
    args: [text, mode],
    defuse(args) {
      args[0] = `${dir}/${(args[0] as string).replaceAll('/', '_')}`;
    },
    result: nothing,
  },
  gettid: {
    checks: [],
    args: [junk, junk],
    result(value) {
      assert(isInt(value, 1, INT_MAX), 'returns a thread id');
    },
  },
  futexWait: {
    checks: [{ kind: 'word' }, int(INT32_MIN, UINT32_MAX), { kind: 'number' }],
    args: [buffer, offset, expected, timeout],
    defuse(args) {
      const t = args[3] as number;
      if (wordOf(args) === (args[2] as number) >>> 0 && !(t >= 0 && t <= 5)) args[3] = Number.isFinite(t) ? Math.abs(t) % 5 : 1;
    },
    result(value, args) {
      if (wordOf(args) !== (args[2] as number) >>> 0) assert(value === 1, 'WAIT_CHANGED when the word differs');
      else assert(value === 2 || value === 0, 'WAIT_TIMED_OUT (or a spurious wake) when it holds the value');
    },
  },
  futexWake: {
    checks: [{ kind: 'word' }, int(1, INT_MAX)],
    args: [buffer, offset, count],
    result(value) {
      assert(isInt(value, 0, INT_MAX), 'returns how many were woken');
    },
  },
  asyncWaitInit: { checks: [{ kind: 'function' }], args: [callback], result: nothing },
  asyncWait: {
    checks: [{ kind: 'word' }, int(INT32_MIN, UINT32_MAX), int(0, UINT32_MAX), { kind: 'any' }],
    args: [buffer, offset, expected, id, anything],
    result(value, args) {
      // Cancel first: a registered wait keeps the process alive.
      const cancelled = value === -1 ? addon.asyncCancel(args[3] as number) : undefined;
      if (wordOf(args) !== (args[2] as number) >>> 0) {
        assert(value === 1, 'WAIT_CHANGED when the word differs');
      } else {
        assert(value === -1, '-1 once registered');
        assert(typeof cancelled === 'boolean', 'asyncCancel returns a boolean');
      }
    },
  },
  asyncCancel: {
    checks: [int(0, UINT32_MAX)],
    args: [id],
    result(value) {
      assert(value === false, 'false: no wait with that id is pending');
    },
  },
  // The first call that reaches the syscall opens this thread's bell; later ones fail
  // with EEXIST (an errno error, as the model expects of a call).
  doorbellOpen: {
    checks: [{ kind: 'function' }],
    args: [callback],
    result(value) {
      assert(value === process.pid, "returns the main thread's id");
    },
  },
  doorbellRef: {
    checks: [{ kind: 'boolean' }],
    args: [flag],
    result(value) {
      // A referenced bell would keep the process alive.
      addon.doorbellRef(false);
      assert(value === undefined, 'returns undefined');
    },
  },
  doorbellRing: {
    checks: [int(1, INT_MAX), int(0, UINT32_MAX)],
    args: [tid, id],
    // Only this process's own bell (open or not) or an address no thread can have.
    defuse(args) {
      args[0] = (args[0] as number) % 2 === 0 ? process.pid : INT_MAX;
    },
    result(value) {
      assert(isInt(value, 0, 4095), 'returns 0 or an errno');
    },
  },
};

if (Object.keys(targets).sort().join() !== [...FUNCTIONS].sort().join()) throw new Error('targets and FUNCTIONS must name the same functions');

/** Arguments for one call: all of them usually, sometimes fewer or one more. */
function callOf(name: string): fc.Arbitrary<{ name: string; args: unknown[] }> {
  const positions = targets[name]!.args;
  const n = positions.length;
  return fc
    .tuple(
      fc.tuple(...positions, junk),
      fc.oneof({ weight: 5, arbitrary: fc.constant(n) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: n + 1 }) }),
    )
    .map(([values, take]) => ({ name, args: values.slice(0, take) }));
}

function show(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 40 });
}

const verdicts: Record<Verdict, number> = { type: 0, range: 0, call: 0 };
const reached = new Set<string>(); // functions called with arguments that reach the syscall

function fuzzOne({ name, args: generated }: { name: string; args: unknown[] }): void {
  const target = targets[name]!;
  const args = [...generated];
  const verdict = judge(target.checks, args);
  if (verdict === 'call') target.defuse?.(args);
  if (verbose) process.stderr.write(`${name}(${args.map(show).join(', ')}) -> expect ${verdict}\n`);
  verdicts[verdict]++;
  if (verdict === 'call') reached.add(name);
  let value: unknown;
  try {
    value = (addon as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const described = `${name}(${args.map(show).join(', ')}) threw ${show(error)}`;
    assert(error instanceof Error, `an Error: ${described}`);
    if (verdict === 'type') {
      assert(error instanceof TypeError && code === 'ERR_INVALID_ARG_TYPE', `TypeError ERR_INVALID_ARG_TYPE: ${described}`);
    } else if (verdict === 'range') {
      assert(error instanceof RangeError && code === 'ERR_OUT_OF_RANGE', `RangeError ERR_OUT_OF_RANGE: ${described}`);
    } else {
      const { errno, syscall } = error as { errno?: unknown; syscall?: unknown };
      assert(
        typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof errno === 'number' && errno < 0 && typeof syscall === 'string',
        `an errno error (code, errno, syscall): ${described}`,
      );
    }
    return;
  }
  assert(verdict === 'call', `${verdict === 'type' ? 'TypeError' : 'RangeError'}, but ${name}(${args.map(show).join(', ')}) returned ${show(value)}`);
  target.result(value, args);
  for (const fd of opened.splice(0)) closeSync(fd);
}

function cleanUp(): void {
  for (const fd of [...opened, ...memfds, mappedFd, fifo, directory]) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
  for (const file of readdirSync('/dev/shm')) {
    if (file.startsWith(SHM_PREFIX)) rmSync(`/dev/shm/${file}`, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
}

try {
  fc.assert(
    fc.property(fc.constantFrom(...FUNCTIONS).chain(callOf), fuzzOne),
    { seed, numRuns },
  );
  // A run may by chance never give a function arguments that get past every check (four
  // for asyncWait): such a function gets runs of its own, a bounded number, so that the
  // coverage asserted below does not depend on luck.
  for (const name of FUNCTIONS) {
    for (let round = 1; round <= 5 && !reached.has(name); round++) {
      fc.assert(fc.property(callOf(name), fuzzOne), { seed: seed + round, numRuns: 300 });
    }
  }
  const unreached = FUNCTIONS.filter((name) => !reached.has(name));
  say(`ok type=${verdicts.type} range=${verdicts.range} call=${verdicts.call} unreached=${unreached.join(',') || '-'}`);
  cleanUp();
  // The process must now end by itself: nothing the calls made (a wait registered and
  // cancelled, above all) may keep its event loop alive.
  setTimeout(() => {
    process.stderr.write('the process did not exit: something the calls made keeps its event loop alive\n');
    process.exit(3);
  }, 3000).unref();
} catch (error) {
  const cause = error instanceof Error ? error.cause : undefined;
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${cause instanceof Error ? `Cause: ${cause.message}\n` : ''}`);
  cleanUp();
  process.exit(1);
}
