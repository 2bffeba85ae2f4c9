// Spin briefly, then sleep: how long a receiver that found nothing polls before it goes
// to sleep. Sleeping costs a wake-up later — one wake-up of a sleeping thread costs
// 10–20 µs on a virtual machine, more than a whole round trip of two spinning processes
// (~3 µs) — so when the answer is a few microseconds away, polling for it is both faster
// and cheaper. When it is not, polling is waste: the window adapts.
//
// The adaptive window: the full DEFAULT_SPIN_US after a poll that caught the message, and
// after a sleep that ended soon (within SHORT_WAIT_US of its start: traffic is
// frequent, and a poll may catch the next message — two processes answering each other
// fall into step that way, each catching the other's answer while it polls). After a
// longer sleep the window halves, down to nothing once it is below a microsecond. A
// receiver whose messages come rarely thus stops polling after a few receives (~2 windows
// of waste in all) and tries again every PROBE_AFTER receives that slept. Polling wastes
// at most DEFAULT_SPIN_US per SHORT_WAIT_US of waiting (10 %) while it lasts.
//
// Futile polls: a short sleep after a poll that caught nothing keeps the window only
// FUTILE_POLLS - 1 times in a row; from then on each one halves it, as a long sleep does,
// and once it is nothing short sleeps no longer refill it — only a probe or a catch does.
// That is the round trip on a loaded machine: the answer comes 20–40 µs after the request,
// every time, so a 10 µs poll never catches it, and polling takes CPU from the very process
// that is to answer (two processes on two busy CPUs); measured, the default receive's round
// trip went from 1.6–2.1x an always-sleeping one's to the same (docs/DECISIONS.md §27). A probe
// after futile polls gets a fresh run of FUTILE_POLLS, so that two processes that would
// catch each other's answers again (the load has gone) find their step back.

/** The most a receive polls by default, in microseconds. */
export const DEFAULT_SPIN_US = 10;

/** After this many receives in a row that slept without polling, the next one polls again. */
const PROBE_AFTER = 64;

/** A sleep that ended within this many microseconds of its start keeps the window. */
const SHORT_WAIT_US = 100;

/** Polls in a row that caught nothing, each followed by a short sleep, after which the window halves anyway. */
export const FUTILE_POLLS = 8;

export class AdaptiveSpin {
  #windowUs = DEFAULT_SPIN_US;
  #sleptWithoutPolling = 0;
  /** Polls in a row that caught nothing though the message came soon after (see the header). */
  #futilePolls = 0;

  /** How long the next receive that finds nothing polls, in microseconds (0: not at all). */
  get windowUs(): number {
    return this.#windowUs;
  }

  /** The poll caught a message. */
  caught(): void {
    this.#windowUs = DEFAULT_SPIN_US;
    this.#sleptWithoutPolling = 0;
    this.#futilePolls = 0;
  }

  /** The receive had to sleep (after polling for windowUs, or without polling) and got its message `waitedUs` after the sleep began. */
  slept(waitedUs: number): void {
    // (The window now is the one this receive polled for, but for concurrent receives on one handle.)
    const polled = this.#windowUs > 0;
    const short = waitedUs <= SHORT_WAIT_US;
    if (polled && short) this.#futilePolls++;
    if (short && this.#futilePolls < FUTILE_POLLS) {
      // The message came soon: the next poll may catch one (the window is full again).
      this.#windowUs = DEFAULT_SPIN_US;
      this.#sleptWithoutPolling = 0;
    } else if (polled) {
      this.#windowUs = this.#windowUs >= 2 ? this.#windowUs / 2 : 0;
    } else if (++this.#sleptWithoutPolling >= PROBE_AFTER) {
      // The probe: a fresh run of polls.
      this.#sleptWithoutPolling = 0;
      this.#futilePolls = 0;
      this.#windowUs = DEFAULT_SPIN_US;
    }
  }
}
