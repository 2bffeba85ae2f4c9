// Where the native addon is looked for, in order (src/native/addon.ts tries them):
//
// 1. build/Release/interproc.node: what node-gyp compiled in this checkout or installed
//    package, for the Node.js that ran it. A developer's own build wins over anything shipped.
// 2. prebuilds/<platform>-<arch>/node.abi<ABI>.glibc.node: the build the package ships
//    for this platform, architecture and Node.js ABI (process.versions.modules), compiled
//    against glibc. Only a process that runs on glibc tries it: on musl it would not load.
//
// scripts/install.js (plain JavaScript, run before anything is compiled) names the prebuild
// the same way; test/unit/addon-files.test.ts checks that the two agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a prebuild is built for: the fields of `process` (and process.versions.modules) that pick it. */
export interface AddonTarget {
  readonly platform: string;
  readonly arch: string;
  readonly abi: string;
}

/** The file node-gyp builds in the package at `packageRoot`. */
export function builtAddonPath(packageRoot: string): string {
  return join(packageRoot, 'build', 'Release', 'interproc.node');
}

/** The prebuild for `target` in the package at `packageRoot` (it may not exist). */
export function prebuildPath(packageRoot: string, target: AddonTarget): string {
  return join(packageRoot, 'prebuilds', `${target.platform}-${target.arch}`, `node.abi${target.abi}.glibc.node`);
}

/** This process's target. */
export function currentTarget(): AddonTarget {
  return { platform: process.platform, arch: process.arch, abi: process.versions.modules };
}

/**
 * Whether a process whose /proc/self/maps reads `maps` runs on glibc: glibc's C library,
 * libc.so.6, is mapped (musl's is ld-musl-<arch>.so.1); " (deleted)" after it when the file
 * was replaced since the process started (an upgrade of the C library). Cheaper than
 * process.report.getReport().header.glibcVersionRuntime, which builds a whole report
 * (30 ms here, and it resolves the names of open sockets).
 */
export function mapsShowGlibc(maps: string): boolean {
  return /\/libc\.so\.6( \(deleted\))?$/m.test(maps);
}

/** Whether this process runs on glibc. */
export function runsOnGlibc(): boolean {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    // No /proc (not Linux, or not mounted): ask Node's report, which says it directly.
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: unknown } } | undefined;
    return typeof report?.header?.glibcVersionRuntime === 'string';
  }
  return mapsShowGlibc(maps);
}
