// The registry (src/registry/) and the library (src/index.ts) are loaded by the commands
// that need them, when they run: both map shared memory through the native addon, and
// `interproc help` or `bench` must work where the addon is not built (npm 11 holds back
// install scripts until approved). When it cannot be loaded, src/native/addon.ts throws one
// line saying which file it looked for and the command that builds it (ERR_INTERPROC_ADDON),
// which the command reports as its failure.
export type Registry = typeof import('../registry/index.ts');
export type Library = typeof import('../index.ts');

export async function loadRegistry(): Promise<Registry> {
  return import('../registry/index.ts');
}

export async function loadLibrary(): Promise<Library> {
  return import('../index.ts');
}
