// The package's install step (package.json "install"): compiles the native addon only when
// no prebuild fits. Plain JavaScript, because it runs where nothing is compiled yet and
// a consumer has no tsx.
//
// - INTERPROC_BUILD_FROM_SOURCE=1, or a checkout of the repository (it has src/, which the
//   package does not ship): always compile — a checkout's native/ may be newer than its
//   prebuilds/, and its tests must run the addon its sources make.
// - Otherwise, when the package holds a prebuild for this platform, architecture and
//   Node.js ABI, this process runs on glibc (the prebuilds are built against it), and the
//   file loads here (it may need a newer glibc than this machine's): nothing to do, the
//   loader (src/native/addon.ts) will use it.
// - Otherwise compile with node-gyp: npm's bundled one (npm names it in
//   npm_config_node_gyp), else `node-gyp` on PATH. Exits with node-gyp's status.
//
// The prebuild's path and the glibc check repeat src/native/addon-files.ts, which cannot
// be imported here (a checkout has no dist/ yet); test/unit/addon-files.test.ts checks
// that both name the same file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The prebuild for this platform, architecture and ABI in the package at `packageRoot`. */
export function prebuildPath(packageRoot, target = { platform: process.platform, arch: process.arch, abi: process.versions.modules }) {
  return join(packageRoot, 'prebuilds', `${target.platform}-${target.arch}`, `node.abi${target.abi}.glibc.node`);
}

/** Whether this process runs on glibc: glibc's libc.so.6 is mapped (musl's is ld-musl-<arch>.so.1), maybe replaced since. */
export function runsOnGlibc() {
  try {
    return /\/libc\.so\.6( \(deleted\))?$/m.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return typeof process.report?.getReport().header?.glibcVersionRuntime === 'string';
  }
}

/** The prebuild to use, or undefined after saying why there is none. */
function usablePrebuild() {
  const prebuilt = prebuildPath(PACKAGE_ROOT);
  if (!existsSync(prebuilt)) {
    log(`no prebuilt addon for Node.js ${process.version} (${prebuilt} does not exist)`);
    return undefined;
  }
  if (!runsOnGlibc()) {
    log(`not using ${prebuilt}: this process does not run on glibc, which the prebuilds are built for`);
    return undefined;
  }
  try {
    // Into a module of its own that is then dropped: only whether it loads matters here.
    process.dlopen({ exports: {} }, prebuilt);
  } catch (error) {
    log(`${prebuilt} does not load here: ${whyNotLoaded(error)}`);
    return undefined;
  }
  return prebuilt;
}

/**
 * Why dlopen refused an addon, in one line. Node's words for another ABI take several lines
 * and name the versions only after the first ("The module '<path>'\nwas compiled against a
 * different Node.js version using\nNODE_MODULE_VERSION 127. ..."), so that case is told
 * from the versions; dlopen's own words ("<path>: file too short") are one line already.
 */
export function whyNotLoaded(error) {
  const text = String(error?.message ?? error);
  const built = /NODE_MODULE_VERSION (\d+)/.exec(text)?.[1];
  if (built !== undefined) return `built for another Node.js (ABI ${built}, not ${process.versions.modules})`;
  return text.split('\n', 1)[0];
}

/** Runs node-gyp rebuild in the package; its exit status. */
function buildFromSource() {
  const npmNodeGyp = process.env.npm_config_node_gyp;
  const [command, args] = npmNodeGyp ? [process.execPath, [npmNodeGyp, 'rebuild']] : ['node-gyp', ['rebuild']];
  log(`compiling the addon: ${npmNodeGyp ? `npm's node-gyp (${npmNodeGyp})` : 'node-gyp'} rebuild`);
  const result = spawnSync(command, args, { cwd: PACKAGE_ROOT, stdio: 'inherit' });
  if (result.error) {
    log(`could not run ${command}: ${result.error.message} (npm runs this script with its own node-gyp)`);
    return 1;
  }
  if (result.status === null) {
    log(`node-gyp was ended by ${result.signal}`);
    return 1;
  }
  return result.status;
}

function log(line) {
  console.error(`interproc install: ${line}`);
}

function main() {
  if (process.env.INTERPROC_BUILD_FROM_SOURCE === '1') return buildFromSource();
  if (existsSync(join(PACKAGE_ROOT, 'src'))) {
    log('a checkout (it has src/): compiling, whatever prebuilds/ holds');
    return buildFromSource();
  }
  const prebuilt = usablePrebuild();
  if (prebuilt !== undefined) {
    log(`using the prebuilt addon ${prebuilt} (INTERPROC_BUILD_FROM_SOURCE=1 compiles instead)`);
    return 0;
  }
  return buildFromSource();
}

// Run as the install step; imported (by a test), only the functions above. Node names a
// main module by its real path, so a package reached through a symbolic link (npm link,
// pnpm) compares equal only after realpath.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = main();
}
