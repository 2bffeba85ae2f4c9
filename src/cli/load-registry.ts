// The registry (src/registry/) is loaded by the commands that need it, when they run: it
// maps shared memory through the native addon, and `interproc help` or `bench` must work
// where the addon is not built (npm 11 holds back install scripts until approved).
export type Registry = typeof import('../registry/index.ts');

export async function loadRegistry(): Promise<Registry> {
  try {
    return await import('../registry/index.ts');
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
