// Every command of `interproc`, in the order `interproc help` lists them. A command is one
// file under src/cli/ that exports a Command (command.ts); adding one is adding it here.
import { bench } from './bench.ts';
import { bridge } from './bridge.ts';
import type { Command } from './command.ts';
import { demo } from './demo.ts';
import { ls } from './ls.ts';
import { recv } from './recv.ts';
import { rm } from './rm.ts';
import { send } from './send.ts';
import { stat } from './stat.ts';
import { top } from './top.ts';

export const COMMANDS: readonly Command[] = [ls, stat, rm, send, recv, top, bridge, bench, demo];
