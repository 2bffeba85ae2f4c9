// interproc's benchmark suite: the Mailbox beside the mechanisms a user would otherwise
// pick (worker.postMessage, child_process.send with 'json' and 'advanced' serialization,
// Unix domain sockets, pipes) and beside the hardware's limit (C programs of bench/c/),
// measured in one run on one machine. Results go to bench/results/<date>-<host>.md and
// .json, and a chart to an .svg next to them (a full run also copies it to latest.svg).
//
//   npm run bench -- [--quick] [--runs N] [--only ID[,ID...]] [--profile-helpers] [--out DIR]
//   npm run bench -- --render FILE.json [--out DIR]
//
// This is `interproc bench` (src/cli/bench.ts) started from the sources; its options are
// described by `interproc help bench` and docs/CLI.md, and parsed in
// src/cli/bench-options.ts. Progress goes to stderr; the paths of the files written to stdout.
//
// The bench measures compiled JavaScript, as users run it: started as TypeScript (through
// tsx), this file has src/cli/bench-launcher.ts compile bench/ and src/ with tsc
// (bench/tsconfig.json) into a directory under the system's temporary directory and run
// the result — this same file, compiled — with plain Node, which takes the second branch.
if (import.meta.url.endsWith('.ts')) {
  const [{ bench }, { runCommand }] = await Promise.all([import('../src/cli/bench.js'), import('../src/cli/command.js')]);
  process.exitCode = await runCommand(bench, process.argv.slice(2));
} else {
  const { main } = await import('./lib/main.ts');
  process.exitCode = await main();
}
