#!/usr/bin/env node
// The `interproc` executable (package.json "bin" points at its compiled form,
// dist/cli/main.js). The command line lives in cli.ts; this file only runs it, so that
// importing the CLI's modules never runs a command.
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
