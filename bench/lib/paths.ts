// Where things are. The bench runs compiled, from a work directory under the system's
// temporary directory (src/cli/bench-launcher.ts): this file is then
// <work>/js/bench/lib/paths.js, so the launcher passes down the root of the interproc it
// was started from (a checkout, or an installed package) in INTERPROC_BENCH_ROOT and the
// default results directory in INTERPROC_BENCH_RESULTS (bench/results in a checkout,
// ./interproc-bench-results where interproc is installed).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The root of the checkout or installed package (it has bench/c/). */
export const ROOT = process.env.INTERPROC_BENCH_ROOT ?? resolve(here, '../..');
export const BENCH_DIR = join(ROOT, 'bench');
export const C_SOURCES = join(BENCH_DIR, 'c');
/** Where results go without --out. */
export const RESULTS_DIR = process.env.INTERPROC_BENCH_RESULTS ?? join(BENCH_DIR, 'results');
/** The compiled bench's bench/ directory (this file's parent's parent). */
export const COMPILED_BENCH = resolve(here, '..');
/** The work directory (compiled JS in js/, C programs in c/, helper CPU profiles in profiles/). */
export const WORK_DIR = resolve(here, '../../..');
