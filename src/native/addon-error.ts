// The error for a native addon that cannot be loaded, worded so that a user can act on it
// without reading the source: the files looked for, why each did not load (missing, or built
// for another Node.js), the prebuilt addons the package holds, this Node.js, and the one
// command that builds it. It is one line, as the `interproc` command reports failures.
//
// A plain Error rather than an IpcError: nothing about the operating system or a peer went
// wrong, and its code is no errno. The code is stable (docs/DECISIONS.md §19); the loader's
// own error is `cause`.
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';

export const ADDON_LOAD_FAILED = 'ERR_INTERPROC_ADDON';

export interface AddonLoadError extends Error {
  readonly code: typeof ADDON_LOAD_FAILED;
}

/** Bounds the listing of prebuilds/: a package holds a few; anything past this is not read. */
const MAX_PREBUILDS_LISTED = 64;

/** A file the loader looked at after the first: what require() threw for it, or why it was not tried. */
export type FurtherAttempt = { readonly path: string; readonly error: unknown } | { readonly path: string; readonly notTried: string };

/**
 * The error for `cause`, thrown by require() for the addon at `addonPath` in the package
 * whose root is `packageRoot`, and for the files in `further` the loader looked at next.
 */
export function addonLoadError(
  cause: unknown,
  addonPath: string,
  packageRoot: string,
  further: readonly FurtherAttempt[] = [],
): AddonLoadError {
  const attempts = [
    why(cause, addonPath),
    ...further.map((attempt) => ('error' in attempt ? why(attempt.error, attempt.path) : `${attempt.path} not tried: ${attempt.notTried}`)),
  ];
  const parts = [
    `interproc's native addon could not be loaded: ${attempts.join('; ')}`,
    `prebuilds: ${listPrebuilds(join(packageRoot, 'prebuilds'))}`,
    `this is Node.js ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch})`,
    `build it: ${buildCommand(packageRoot)}`,
  ];
  const error = new Error(parts.join('; '), { cause }) as Error & { code: string };
  error.code = ADDON_LOAD_FAILED;
  return error as AddonLoadError;
}

function why(cause: unknown, addonPath: string): string {
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(cause);
  if (code === 'MODULE_NOT_FOUND') return `${addonPath} does not exist`;
  // Node's words for an addon of another ABI: "...was compiled against a different Node.js
  // version using NODE_MODULE_VERSION 147. This version of Node.js requires NODE_MODULE_VERSION 115."
  const versions = [...text.matchAll(/NODE_MODULE_VERSION (\d+)/g)].map((match) => match[1]);
  if (versions.length >= 1) {
    return `${addonPath} was built for another Node.js (ABI ${versions[0]}, not ${process.versions.modules})`;
  }
  // dlopen's own words already start with the path ("<path>: file too short").
  const firstLine = text.split('\n', 1)[0] ?? '';
  return firstLine.startsWith(`${addonPath}: `) ? firstLine : `${addonPath}: ${firstLine}`;
}

/** The files under prebuilds/ (as platform-arch/file), or why there are none. */
function listPrebuilds(directory: string): string {
  let entries: string[];
  try {
    entries = readdirSync(directory, { recursive: true, encoding: 'utf8' });
  } catch {
    return 'none (no prebuilds/ directory)';
  }
  const addons = entries.filter((entry) => entry.endsWith('.node')).slice(0, MAX_PREBUILDS_LISTED);
  if (addons.length === 0) return 'none (prebuilds/ holds no .node file)';
  return addons.map((entry) => entry.split(sep).join('/')).join(', ');
}

/**
 * A package installed as a dependency lives in a node_modules directory, where npm rebuilds
 * it (after npm 11's approval of its install script); a checkout of the repository builds
 * with its own script.
 */
function buildCommand(packageRoot: string): string {
  if (packageRoot.split(sep).includes('node_modules')) {
    return 'npm rebuild interproc (npm 11 and later run it only once allowed: npm install-scripts approve interproc)';
  }
  return `npm run build (in ${packageRoot})`;
}
