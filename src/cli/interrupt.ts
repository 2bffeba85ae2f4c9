// SIGINT (Ctrl-C) and SIGTERM while a command waits: the wait is aborted through an
// AbortSignal, so that the library withdraws it from shared memory (a waiting receive's
// slot, a send not yet taken) and the command exits with 130 after closing what it opened,
// instead of dying in the middle.
export interface Interruption {
  readonly signal: AbortSignal;
  /** Stops listening (the signals' default action is back). */
  dispose(): void;
}

export function abortOnInterrupt(): Interruption {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => controller.abort(new Error(`interrupted by ${name}`));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
