// Where things are. The bench runs compiled (bench/run.ts): this file is then
// <work>/bench/lib/paths.js under a temporary directory, so the repository's root is
// passed down in INTERPROC_BENCH_ROOT.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's root. */
export const ROOT = process.env.INTERPROC_BENCH_ROOT ?? resolve(here, '../..');
export const BENCH_DIR = join(ROOT, 'bench');
export const C_SOURCES = join(BENCH_DIR, 'c');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
/** The compiled bench's bench/ directory (this file's parent's parent). */
export const COMPILED_BENCH = resolve(here, '..');
/** The work directory (compiled JS in js/, C programs in c/, helper CPU profiles in profiles/). */
export const WORK_DIR = resolve(here, '../../..');
