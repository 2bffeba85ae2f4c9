#!/usr/bin/env node
// The `interproc` executable (package.json "bin" points at its compiled form,
// dist/cli/main.js). The command line lives in cli.ts; this file only runs it, so that
// importing the CLI's modules never runs a command.
import { EXIT_FAILURE } from './command.ts';
import { runCli } from './cli.ts';

// A reader that went away (`interproc ls | head -1`): stop quietly, as other tools do,
// instead of dying on an unhandled EPIPE. A command that must clean up first (demo)
// listens for this error itself and exits when it is done.
process.stdout.on('error', () => {
  if (process.stdout.listenerCount('error') > 1) return;
  process.exit(EXIT_FAILURE);
});

process.exitCode = await runCli(process.argv.slice(2));
