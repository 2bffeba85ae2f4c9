// The ring stress tests' run (runStress in stress-run.ts, the same parties and checks as the
// Mailbox's) on one mailbox that has a ring (capacity 256, messages up to 4 KiB, maxBytes
// 1 MiB: 256 × 4 KiB fits, so the byte budget never binds), plain traffic only, so that the
// store stays in RING mode for the whole run — or, with a receiver in mode 'switch', leaves
// it mid-run while everybody is busy in the ring, and goes back to it, in turns. One message in eight is short (1-23
// bytes, sender and seq in its type).
//
// Beyond the checks of every stress run, those of the ring, from a white-box view of the
// store: it has a ring at the start, stats().messages is never above the capacity, the mode
// at the end is as planned, and a switch happened while senders were still sending (and
// not late), and so did a return to RING mode after it.
//
// Environment: STRESS_MESSAGES (messages per sender, default 100,000; the plan may ask for
// a fraction of it), STRESS_SEED (every failure message names the seed it ran with).
import type { MailboxOptions } from '../../src/index.ts';
import { mode, openRingView } from './ring-white-box.ts';
import { MAX_MESSAGE_BYTES, type ReceiverReport } from './stress-message.ts';
import { runStress, STRESS_MESSAGES, type Participant, type Peak, type StoreWatch, type StressPlan, type StressResult } from './stress-run.ts';

export { STRESS_MESSAGES };
/** Hard limit on every helper and worker. */
export const RING_HELPER_TIMEOUT_MS = 120_000;
export const RING_TEST_TIMEOUT_MS = RING_HELPER_TIMEOUT_MS + 30_000;

export const RING_OPTIONS: MailboxOptions<Uint8Array> = {
  capacity: 256,
  maxMessageSize: MAX_MESSAGE_BYTES,
  maxBytes: 1 << 20,
  codec: 'bytes',
};

export type RingSenderMode = 'try-async' | 'try-sync' | 'async' | 'sync';
/** No selective receivers but one in mode 'switch': selecting leaves RING mode. */
export type RingReceiverMode = 'async' | 'sync' | 'try-async' | 'iterate' | 'switch';

export interface RingStressPlan extends StressPlan {
  senders: Array<Participant<RingSenderMode>>;
  receivers: Array<Participant<RingReceiverMode>>;
  messages: number;
}

/** Watches the store's mode; the checks of the ring once the run is over. */
function ringWatch(plan: RingStressPlan, name: string): StoreWatch {
  const view = openRingView(name);
  if (view.slots !== 256 || mode(view) !== 'ring') throw new Error(`the mailbox has no ring (${view.slots} slots, ${mode(view)} mode)`);
  const switching = plan.receivers.some((receiver) => receiver.mode === 'switch');
  let switchedMidRun = false;
  let returnedMidRun = false;
  return {
    sample(sending) {
      if (!sending) return;
      const now = mode(view);
      if (now === 'list') switchedMidRun = true;
      else if (switchedMidRun) returnedMidRun = true;
    },
    check(receiverReports: ReceiverReport[], peak: Peak, total: number): string[] {
      const failures: string[] = [];
      if (peak.messages > RING_OPTIONS.capacity!) failures.push(`stats().messages reached ${peak.messages}, above the capacity ${RING_OPTIONS.capacity}`);
      // A switching run may end in either mode (its turns of plain receives bring it back).
      const finalMode = mode(view);
      if (!switching && finalMode !== 'ring') failures.push(`the store ended in ${finalMode.toUpperCase()} mode`);
      if (switching) {
        const switcher = receiverReports.find((report) => plan.receivers[report.receiver]!.mode === 'switch')!;
        if (switcher.switchedAfterSeq < 0) failures.push(`the switching receiver never switched`);
        else if (switcher.switchedAfterSeq >= total - total / 10) failures.push(`the switch came late: after seq ${switcher.switchedAfterSeq} of ${total}`);
        if (!switchedMidRun) failures.push('the store was not seen in LIST mode while senders were still sending');
        else if (!returnedMidRun) failures.push('the store was not seen back in RING mode while senders were still sending');
      }
      return failures;
    },
  };
}

export function runRingStress(plan: RingStressPlan, log?: (line: string) => void): Promise<StressResult> {
  return runStress(
    plan,
    {
      title: 'ring stress run',
      options: RING_OPTIONS,
      traffic: { plain: true, short: true, opTimeoutMs: 120_000 },
      helperTimeoutMs: RING_HELPER_TIMEOUT_MS,
      sampleEveryMs: 20,
      watch: (name) => ringWatch(plan, name),
    },
    log,
  );
}
