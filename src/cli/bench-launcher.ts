// Runs the benchmark suite (bench/) as compiled JavaScript with plain Node, from a work
// directory under the system's temporary directory: for `interproc bench` and
// `npm run bench` alike. Code run through tsx's loader is several times slower (its
// namespace imports become getter calls: on the Mailbox's hot path trySend/tryReceive cost
// ~8x more), so the bench never measures TypeScript run through a loader.
//
// Where the JavaScript comes from depends on what this copy of interproc is:
// - a checkout of the repository (bench/tsconfig.json is there): tsc compiles the current
//   bench/ and src/ with bench/tsconfig.json, so a developer measures what they just edited;
// - an installed package (no TypeScript, no bench sources): the bench that the package's
//   build compiled into dist/bench/ with bench/tsconfig.build.json is copied to js/bench/,
//   and the library it imports (as ../../src/...) is the package's own dist/, copied to
//   js/src/: the package holds one compiled copy of src/, not two.
// Either way the work directory ends up as
//   js/bench/, js/src/         the bench and the library it measures, as tsc lays them out
//   js/build/Release/interproc.node   a copy of the addon: js/src/native/addon.js loads it from
//                              ../../build/Release/, the path dist/native/addon.js uses
//   c/, profiles/              the C baselines and helper CPU profiles (bench/lib/paths.ts)
// and the compiled bench finds the package (for bench/c/) through INTERPROC_BENCH_ROOT and
// the default of --out through INTERPROC_BENCH_RESULTS: bench/results in a checkout,
// ./interproc-bench-results elsewhere (an installed package's directory is no place for
// results, and may not be writable).
//
// This module runs only from src/cli/ (through tsx) or dist/cli/: both are two levels
// below the package's root. (The copy compiled into js/src/cli/ is never started.)
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILURE } from './command.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where an installed package's build put the compiled bench (bench/tsconfig.build.json). */
const SHIPPED = join(ROOT, 'dist', 'bench');

/**
 * Compiles or copies the bench, then runs it with `args` (checked already); resolves to its
 * exit code. With `debug` (interproc --debug) the bench reports a failure with its stack.
 */
export async function launchBench(args: string[], debug: boolean): Promise<number> {
  const checkout = existsSync(join(ROOT, 'bench', 'tsconfig.json'));
  const addon = join(ROOT, 'build', 'Release', 'interproc.node');
  if (!existsSync(addon)) {
    throw new Error(
      `${addon} is missing: ` +
        (checkout
          ? 'build the addon first (npm install, or npm run build)'
          : "interproc's install script, which builds it, did not run (npm 11: npm install-scripts approve interproc; then npm rebuild interproc)"),
    );
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  // One work directory per user, copy of interproc and version: runs of one copy reuse
  // tsc's incremental state and the built C programs. (Their staleness is judged by
  // modification times, which npm sets to one fixed date in every package: the version in
  // the name keeps one version's programs from passing for another's.)
  const uid = process.getuid?.() ?? 0;
  const key = createHash('sha1').update(`${ROOT}\n${version}`).digest('hex').slice(0, 10);
  const work = join(tmpdir(), `interproc-bench-${uid}-${key}`);
  const js = join(work, 'js');
  mkdirSync(js, { recursive: true });
  place(join(work, 'package.json'), Buffer.from('{ "private": true, "type": "module" }\n'));

  if (checkout) {
    process.stderr.write(`compiling bench/ and src/ into ${js}\n`);
    compile(work, js);
  } else {
    if (!existsSync(join(SHIPPED, 'run.js'))) throw new Error(`${SHIPPED} holds no compiled bench: this package was built without it`);
    process.stderr.write(`running the compiled bench of ${ROOT} from ${js}\n`);
    copyJavaScript(SHIPPED, join(js, 'bench'), null);
    copyJavaScript(join(ROOT, 'dist'), join(js, 'src'), SHIPPED);
  }
  place(join(js, 'build', 'Release', 'interproc.node'), readFileSync(addon));

  // Node options given to this process go on, except the tsx loader.
  const nodeOptions = process.execArgv.filter(
    (option, i, all) => option !== '--import=tsx' && !(option === '--import' && all[i + 1] === 'tsx') && !(option === 'tsx' && all[i - 1] === '--import'),
  );
  const results = checkout ? join(ROOT, 'bench', 'results') : resolve('interproc-bench-results');
  const child = spawn(process.execPath, [...nodeOptions, join(js, 'bench', 'run.js'), ...args], {
    stdio: 'inherit',
    env: { ...process.env, INTERPROC_BENCH_ROOT: ROOT, INTERPROC_BENCH_RESULTS: results, ...(debug ? { INTERPROC_BENCH_DEBUG: '1' } : {}) },
  });
  // Ctrl-C reaches the bench through the terminal's process group, and it cleans up on the
  // first SIGINT only (a second one would kill it before it has removed its helpers and
  // shared objects): so this process lets SIGINT pass and waits, and passes on a SIGTERM
  // sent to it alone.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolveExit) => {
    child.on('error', (error) => {
      process.stderr.write(`interproc bench: could not start ${process.execPath}: ${error.message}\n`);
      resolveExit(EXIT_FAILURE);
    });
    child.on('exit', (code, signal) => resolveExit(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
  });
}

/** Copies the .js files under `from` (but none under `skip`) to the same places under `to`. */
function copyJavaScript(from: string, to: string, skip: string | null): void {
  for (const file of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    const path = join(from, file);
    if (!file.endsWith('.js') || (skip !== null && path.startsWith(skip + sep)) || !statSync(path).isFile()) continue;
    place(join(to, file), readFileSync(path));
  }
}

/** tsc, from the checkout's devDependencies, compiles bench/ and src/ into `js`. */
function compile(work: string, js: string): void {
  let tsc: string;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error('TypeScript is not installed: in a checkout the bench is compiled from its sources (run npm install)');
  }
  // --noCheck: `npm run typecheck` checks types; here only the JavaScript matters. tsc
  // prints its diagnostics on stdout, which is for result paths: they go to stderr.
  const compiled = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'bench', 'tsconfig.json'), '--outDir', js, '--tsBuildInfoFile', join(work, 'tsbuildinfo'), '--noCheck'],
    { stdio: ['ignore', 2, 2], timeout: 120_000 },
  );
  if (compiled.status !== 0) throw new Error(`tsc failed (${compiled.error?.message ?? `status ${compiled.status}`})`);
}

/**
 * Makes `path` hold `bytes`. A file that differs is replaced by a rename, never rewritten in
 * place: another bench run may be using it, and a shared library rewritten under a process
 * that has it mapped crashes that process.
 */
function place(path: string, bytes: Buffer): void {
  try {
    if (readFileSync(path).equals(bytes)) return;
  } catch {
    // Not there yet.
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}
