// The terminal of a live `interproc top`, as htop uses it: the alternate screen (the shell's
// screen comes back unchanged afterwards), the cursor hidden, the keyboard in raw mode
// (keys arrive one by one, unechoed, Ctrl-C as a key). Whatever way top ends — q, Ctrl-C,
// a signal, an exception — the terminal must be given back as it was: leave() undoes all
// three, once; and an 'exit' listener calls it for an exit that bypasses the caller's
// clean-up (an uncaught exception, process.exit). Writes to a terminal are synchronous on
// Linux, so what leave() writes from the 'exit' listener reaches it.
import type { ReadStream, WriteStream } from 'node:tty';

const ALTERNATE_SCREEN_ON = '\x1b[?1049h';
const ALTERNATE_SCREEN_OFF = '\x1b[?1049l';
const CURSOR_HIDDEN = '\x1b[?25l';
const CURSOR_SHOWN = '\x1b[?25h';
const CURSOR_HOME = '\x1b[H';
const CLEAR_TO_LINE_END = '\x1b[K';
const CLEAR_TO_SCREEN_END = '\x1b[J';

export class Screen {
  private active = false;
  private onKeys: ((keys: string) => void) | null = null;
  private readonly leaveOnExit = (): void => this.leave();

  /** `input`: the keyboard, or null when stdin is no terminal (then only signals end top). */
  constructor(
    private readonly output: WriteStream,
    private readonly input: ReadStream | null,
  ) {}

  /** Takes the terminal over; `onKeys` receives what is typed (a chunk may hold several keys). */
  enter(onKeys: (keys: string) => void): void {
    if (this.active) return;
    this.active = true;
    process.on('exit', this.leaveOnExit);
    this.output.write(ALTERNATE_SCREEN_ON + CURSOR_HIDDEN);
    if (this.input !== null) {
      this.onKeys = onKeys;
      this.input.setRawMode(true);
      this.input.setEncoding('utf8');
      this.input.on('data', onKeys);
      this.input.resume();
    }
  }

  /**
   * Shows `lines` from the top left corner: each line is overwritten and cleared to its end,
   * and what is below the last one cleared, so the screen never flickers blank between
   * frames. No line end after the last line: on a full screen it would scroll.
   */
  draw(lines: readonly string[]): void {
    if (!this.active) return;
    this.output.write(CURSOR_HOME + lines.map((line) => line + CLEAR_TO_LINE_END).join('\r\n') + CLEAR_TO_SCREEN_END);
  }

  /** Gives the terminal back: raw mode off, the keyboard released, the cursor shown, the shell's screen back. */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.leaveOnExit);
    if (this.input !== null) {
      if (this.onKeys !== null) this.input.off('data', this.onKeys);
      this.input.setRawMode(false);
      // A paused stdin no longer keeps the process alive.
      this.input.pause();
    }
    this.output.write(CURSOR_SHOWN + ALTERNATE_SCREEN_OFF);
  }
}
