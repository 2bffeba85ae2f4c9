// What one scenario of `interproc demo` is. Both halves of a scenario live in its own file:
// `run`, the demo process's side, and `peer`, what the processes it starts do (peer.ts runs
// it in each of them), so that a reader sees the whole exchange in one place.
import type { PeerProcess } from './peer-process.ts';

export interface Scenario {
  /** The word after `interproc demo`. */
  readonly name: string;
  /** One line for `demo --list` and the scenario's heading (at most 56 characters). */
  readonly title: string;
  /** What the lecture says, quoted in the heading (a line or two). */
  readonly lecture: string;
  /** The demo process's side: starts peers, narrates, ends by stating the result. */
  run(stage: Stage): Promise<void>;
  /** A peer process's side, run by peer.ts with the arguments `stage.startPeer` gave. */
  peer?(side: PeerSide, args: string[]): Promise<void>;
}

/** What a scenario's `run` gets from the demo: narration, processes, and a place for files. */
export interface Stage {
  /** The namespace every object of this demo run is made in (demo-<pid>). */
  readonly namespace: string;
  /** A line said by the demo process itself (shown as `[demo]`). */
  say(text: string): void;
  /** The scenario's outcome, with the figures seen (shown after `=>`). */
  result(text: string): void;
  /** Starts a Node process running this scenario's `peer` with `args`; `label` names it in the narration. */
  startPeer(label: string, args: string[], options?: { extraFds?: number[] }): PeerProcess;
  /** Starts a program (`cat`): its output lines are narrated under `label`. */
  startProgram(label: string, file: string, args: string[]): PeerProcess;
  /** A private temporary directory, made on first use and removed when the demo ends. */
  temporaryDirectory(): string;
}

/** What a peer process's side of a scenario uses to talk to the demo process. */
export interface PeerSide {
  /** A line of narration, shown by the demo under this peer's label. */
  say(text: string): void;
  /** An event the demo waits for (`waitFor`): a word and optional values, one line. */
  tell(event: string, ...values: Array<string | number>): void;
  /** The next line the demo wrote to this peer (`PeerProcess.send`); rejects after `timeoutMs` or at end of input. */
  nextLine(timeoutMs?: number): Promise<string>;
}
