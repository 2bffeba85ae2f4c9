// A process the demo started — a peer running a scenario's other side (peer.ts), or a
// program such as cat — seen from the demo process. Its output lines become narration under
// its label; a peer's lines that start with EVENT_MARK are events its scenario waits for
// (handshakes: the demo never sleeps to let a peer get somewhere). Every wait has a deadline
// and fails at once if the process exits first.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A peer's output line that starts with this is an event, not narration. */
export const EVENT_MARK = '@';
/** How long a scenario waits for a peer's event or exit at most (peers start in well under a second). */
export const PEER_TIMEOUT_MS = 20_000;
/** Lines of a failed process's stderr shown in the error. */
const STDERR_LINES_SHOWN = 3;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface EventWaiter {
  event: string;
  resolve(values: string[]): void;
  reject(error: Error): void;
}

export class PeerProcess {
  readonly label: string;
  readonly pid: number;
  /** Settles when the process has exited and its output has been read (never rejects). */
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  /** Events told but not yet waited for, in order. */
  readonly #events: Array<{ event: string; values: string[] }> = [];
  #waiter: EventWaiter | null = null;
  #stderr = '';
  #exit: ProcessExit | null = null;

  constructor(child: ChildProcess, label: string, narrate: (line: string) => void, withEvents: boolean) {
    this.#child = child;
    this.label = label;
    this.pid = child.pid ?? 0;
    // A line sent to a process that has exited fails with EPIPE; its exit is what the
    // scenario hears about (waitFor, finished), not an error thrown from a stream.
    child.stdin?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (withEvents && line.startsWith(EVENT_MARK)) this.#told(line.slice(EVENT_MARK.length).split(' '));
      else narrate(line);
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        // Not started (spawn failed): there will be no 'close'.
        if (child.pid === undefined) {
          this.#stderr += `${error.message}\n`;
          this.#ended({ code: null, signal: null });
          resolve(this.#exit!);
        }
      });
      child.on('close', (code, signal) => {
        this.#ended({ code, signal });
        resolve(this.#exit!);
      });
    });
  }

  /** The values of the next event `event` this process tells (earlier other events are dropped). */
  waitFor(event: string, timeoutMs = PEER_TIMEOUT_MS): Promise<string[]> {
    for (;;) {
      const next = this.#events.shift();
      if (next === undefined) break;
      if (next.event === event) return Promise.resolve(next.values);
    }
    if (this.#exit !== null) return Promise.reject(this.#failure(`exited before it said it was ${event}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`${this.#name()} did not say it was ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        event,
        resolve: (values) => {
          clearTimeout(timer);
          resolve(values);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Writes one line to the process's standard input (PeerSide.nextLine reads it). */
  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Resolves once the process has exited with code 0; rejects if it failed, or after `timeoutMs`. */
  async finished(timeoutMs = PEER_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.#name()} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const { code } = await Promise.race([this.exited, late]);
      if (code !== 0) throw this.#failure('failed');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process (SIGKILL: a peer may be in a synchronous wait that no handler would interrupt). */
  kill(): void {
    if (this.#exit === null) this.#child.kill('SIGKILL');
  }

  /** The process itself, for what needs it (a pipe end handed over to it). */
  get childProcess(): ChildProcess {
    return this.#child;
  }

  get running(): boolean {
    return this.#exit === null;
  }

  #told(words: string[]): void {
    const [event = '', ...values] = words;
    if (this.#waiter !== null && this.#waiter.event === event) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve(values);
    } else {
      this.#events.push({ event, values });
    }
  }

  #ended(exit: ProcessExit): void {
    if (this.#exit !== null) return;
    this.#exit = exit;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(this.#failure(`exited before it said it was ${waiter.event}`));
  }

  #name(): string {
    return `${this.label}${this.pid === 0 ? '' : ` ${this.pid}`}`;
  }

  #failure(what: string): Error {
    const exit = this.#exit;
    const how = exit === null ? '' : exit.signal !== null ? ` (${exit.signal})` : exit.code !== null ? ` (exit code ${exit.code})` : '';
    // A peer reports its failure as one line (peer.ts); a program's own words are kept, a stack's frames are not.
    const stderr = this.#stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
      .slice(-STDERR_LINES_SHOWN);
    return new Error(`${this.#name()} ${what}${how}${stderr.length > 0 ? `:\n  ${stderr.join('\n  ')}` : ''}`);
  }
}
