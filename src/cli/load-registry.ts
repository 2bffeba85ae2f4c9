// The registry (src/registry/) and the library (src/index.ts) are loaded by the commands
// that need them, when they run: both map shared memory through the native addon, and
// `interproc help` or `bench` must work where the addon is not built (npm 11 holds back
// install scripts until approved).
export type Registry = typeof import('../registry/index.ts');
export type Library = typeof import('../index.ts');

export async function loadRegistry(): Promise<Registry> {
  return withAddonExplained(() => import('../registry/index.ts'));
}

export async function loadLibrary(): Promise<Library> {
  return withAddonExplained(() => import('../index.ts'));
}

/** Imports a module that loads the addon; a missing addon is one line saying how to build it. */
async function withAddonExplained<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes('interproc.node')) {
      throw new Error(
        "interproc's native addon (build/Release/interproc.node) is missing: its install script did not run " +
          '(in a checkout: npm install; with npm 11: npm install-scripts approve interproc, then npm rebuild interproc)',
        { cause: error },
      );
    }
    throw error;
  }
}
