// The physical limit: the C programs of bench/c/, compiled by the bench itself with the
// machine's `cc` into its work directory (under the system's temporary directory, beside
// the compiled bench), and run under hard timeouts.
import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { C_SOURCES, WORK_DIR } from './paths.ts';

const run = promisify(execFile);
const SOURCES = `${C_SOURCES}/`;
const BUILD_DIR = `${join(WORK_DIR, 'c')}/`;

export type NativeProgram = 'spin-pingpong' | 'futex-pingpong' | 'memcpy-bandwidth' | 'sysv-msgqueue';
const PROGRAMS: NativeProgram[] = ['spin-pingpong', 'futex-pingpong', 'memcpy-bandwidth', 'sysv-msgqueue'];

export interface NativeBuild {
  /** Why there are no C baselines (no `cc`, or a compile error); null when they are built. */
  skipped: string | null;
  compiler: string;
  path(program: NativeProgram): string;
}

export async function buildNative(): Promise<NativeBuild> {
  let compiler: string;
  try {
    compiler = (await run('cc', ['--version'], { timeout: 10_000 })).stdout.split('\n')[0]!.trim();
  } catch {
    return { skipped: 'no C compiler (`cc`) on this machine: the C baselines were skipped', compiler: '', path: () => '' };
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  try {
    await Promise.all(
      PROGRAMS.filter((program) => stale(program)).map((program) =>
        run('cc', ['-O2', '-std=c11', '-Wall', '-o', `${BUILD_DIR}${program}`, `${SOURCES}${program}.c`], { timeout: 60_000 }),
      ),
    );
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    return { skipped: `the C baselines did not compile: ${detail.trim().split('\n')[0]}`, compiler, path: () => '' };
  }
  return { skipped: null, compiler, path: (program) => `${BUILD_DIR}${program}` };
}

function modified(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

// Not built yet, or older than its sources.
function stale(program: NativeProgram): boolean {
  const built = modified(`${BUILD_DIR}${program}`);
  return built < 0 || built < Math.max(modified(`${SOURCES}${program}.c`), modified(`${SOURCES}common.h`));
}

/** Runs a C program; its stdout is one number per line. Killed (and an error) after `timeoutMs`. */
export async function runNative(build: NativeBuild, program: NativeProgram, args: number[], timeoutMs: number): Promise<Float64Array> {
  const timeoutSeconds = Math.ceil(timeoutMs / 1000);
  try {
    const { stdout } = await run(build.path(program), [...args.map(String), String(timeoutSeconds)], {
      timeout: timeoutMs + 2000,
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024 * 1024,
    });
    const lines = stdout.trim().split('\n');
    const values = new Float64Array(lines.length);
    for (let i = 0; i < lines.length; i++) values[i] = Number(lines[i]);
    if (values.some((value) => !Number.isFinite(value))) throw new Error(`${program} printed something that is not a number`);
    return values;
  } catch (error) {
    const { killed, signal } = error as { killed?: boolean; signal?: string };
    if (killed === true || signal === 'SIGKILL' || signal === 'SIGALRM') {
      throw new Error(`${program} ${args.join(' ')} did not finish within ${timeoutMs} ms; killed it`);
    }
    throw error;
  }
}
