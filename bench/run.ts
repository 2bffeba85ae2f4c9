// interproc's benchmark suite: the Mailbox beside the mechanisms a user would otherwise
// pick (worker.postMessage, child_process.send with 'json' and 'advanced' serialization,
// Unix domain sockets, pipes) and beside the hardware's limit (C programs of bench/c/),
// measured in one run on one machine. Results go to bench/results/<date>-<host>.md and
// .json, and a chart to an .svg next to them (a full run also copies it to latest.svg).
//
//   node --import tsx bench/run.ts [--quick] [--runs N] [--only ID[,ID...]] [--profile-helpers] [--out DIR]
//
// --quick              fewer, shorter runs (under a minute); results get a "-quick" suffix
// --runs N             measured runs per figure (default 3 quick, 7 full)
// --only a,b           only figures whose "scenario/transport" contains one of these
//                      (e.g. --only msg64/mailbox,rtt/c-); results get a "-partial" suffix
// --profile-helpers    helper processes write CPU profiles (--cpu-prof); the path is shown
// --out DIR            where results go (default bench/results)
// --render FILE.json   only write the .md and .svg of an earlier run again (report or findings changed)
//
// Progress goes to stderr; the paths of the files written to stdout.
//
// The bench measures compiled JavaScript, as users run it: started as TypeScript (through
// tsx), this file compiles bench/ and src/ with tsc (bench/tsconfig.json) into a directory
// under the system's temporary directory and runs the result with plain Node. Code run
// through tsx's loader is much slower — its namespace imports become getter calls: on the
// Mailbox's hot path trySend/tryReceive cost ~8x more — so it would measure the loader.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

async function launch(): Promise<number> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const uid = process.getuid?.() ?? 0;
  const work = join(tmpdir(), `interproc-bench-${uid}-${createHash('sha1').update(root).digest('hex').slice(0, 10)}`);
  const js = join(work, 'js');
  const addon = join(root, 'build', 'Release', 'interproc.node');
  if (!existsSync(addon)) {
    process.stderr.write(`bench: ${addon} is missing: build the addon first (npm install, or npm run build)\n`);
    return 1;
  }
  mkdirSync(join(js, 'build', 'Release'), { recursive: true });
  writeFileSync(join(work, 'package.json'), '{ "private": true, "type": "module" }\n');
  process.stderr.write(`compiling bench/ and src/ into ${js}\n`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(
    process.execPath,
    [tsc, '-p', join(root, 'bench', 'tsconfig.json'), '--outDir', js, '--tsBuildInfoFile', join(work, 'tsbuildinfo'), '--noCheck'],
    { stdio: 'inherit', timeout: 120_000 },
  );
  if (compiled.status !== 0) {
    process.stderr.write(`bench: tsc failed (${compiled.error?.message ?? `status ${compiled.status}`})\n`);
    return 1;
  }
  // src/native/addon.ts loads ../../build/Release/interproc.node: the same path from js/src/native/.
  copyFileSync(addon, join(js, 'build', 'Release', 'interproc.node'));

  // Node options given to this process go on, except the tsx loader.
  const nodeOptions = process.execArgv.filter(
    (option, i, all) => option !== '--import=tsx' && !(option === '--import' && all[i + 1] === 'tsx') && !(option === 'tsx' && all[i - 1] === '--import'),
  );
  const child = spawn(process.execPath, [...nodeOptions, join(js, 'bench', 'run.js'), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, INTERPROC_BENCH_ROOT: root },
  });
  // (Ctrl-C reaches the child through the terminal's process group; a kill of this process is passed on.)
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit(code ?? (signal === null ? 1 : 128 + 15)));
  });
}

if (import.meta.url.endsWith('.ts')) {
  process.exitCode = await launch();
} else {
  const { main } = await import('./lib/main.ts');
  process.exitCode = await main();
}
