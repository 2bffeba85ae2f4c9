// The live `interproc top`: a frame every interval on the terminal's alternate screen, keys
// read as they are typed, until q or Ctrl-C (exit code 0) or SIGINT or SIGTERM (130, as for
// every command interrupted). However it ends, with an exception from a frame included, the
// terminal is restored (top-screen.ts) before the promise settles.
import type { ReadStream, WriteStream } from 'node:tty';
import { EXIT_FAILURE, EXIT_SUCCESS } from './command.ts';
import { formatFrame } from './top-frame.ts';
import { nextSortKey, rowsOf, sortRows, type Sample, type SortKey, type TopRow } from './top-rows.ts';
import { Screen } from './top-screen.ts';

/** The exit code of an interrupted command (usage.ts lists it). */
const EXIT_INTERRUPTED = 130;

export interface LiveOptions {
  namespace: string | null;
  sort: SortKey;
  intervalMs: number;
  /** Lists the objects now (the registry, read-only). */
  sample(): Sample;
}

/** Runs until the user quits; resolves to the exit code, rejects with a frame's error (the terminal restored either way). */
export function runLive(options: LiveOptions, output: WriteStream, input: ReadStream | null): Promise<number> {
  const screen = new Screen(output, input);
  let sort = options.sort;
  let previous: Sample | null = null;
  let rows: TopRow[] = [];
  let time = new Date();
  let timer: NodeJS.Timeout | undefined;
  let settled = false;

  return new Promise<number>((resolve, reject) => {
    const finish = (code: number, error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      output.off('resize', redraw);
      screen.leave();
      if (error === undefined) resolve(code);
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    // Every callback runs through this: an exception ends top with the terminal restored.
    const guard = (work: () => void): void => {
      if (settled) return;
      try {
        work();
      } catch (error) {
        finish(EXIT_FAILURE, error);
      }
    };
    const draw = (): void => {
      const frame = formatFrame(sortRows(rows, sort), {
        namespace: options.namespace,
        sort,
        intervalMs: options.intervalMs,
        time,
        width: output.columns,
        height: output.rows,
        keys: input !== null,
      });
      screen.draw(frame);
    };
    const redraw = (): void => guard(draw);
    const interrupted = (): void => finish(EXIT_INTERRUPTED);
    // `due`: when this frame was meant to be taken. The next is due one interval later, so
    // frames keep their pace however long a listing takes; one that is already late is
    // taken an interval from now rather than at once, so a slow listing cannot take all
    // the time there is.
    const tick = (due: number): void =>
      guard(() => {
        const sample = options.sample();
        rows = rowsOf(sample, previous);
        previous = sample;
        time = new Date();
        draw();
        const now = performance.now();
        const next = due + options.intervalMs > now ? due + options.intervalMs : now + options.intervalMs;
        timer = setTimeout(() => tick(next), next - now);
      });
    const onKeys = (keys: string): void =>
      guard(() => {
        for (const key of keys) {
          if (key === 'q' || key === 'Q' || key === '\x03') {
            finish(EXIT_SUCCESS);
            return;
          }
          if (key === 's') {
            sort = nextSortKey(sort);
            draw();
          }
        }
      });

    process.on('SIGINT', interrupted);
    process.on('SIGTERM', interrupted);
    output.on('resize', redraw);
    guard(() => screen.enter(onKeys));
    tick(performance.now());
  });
}
