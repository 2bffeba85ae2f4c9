// Why a target is missed: what was measured, and by which command, on the 2-vCPU AMD EPYC VM
// (Node 20.20) the bench's results come from: instruction counts (callgrind),
// CPU time per message (process.cpuUsage), CPU profiles (--cpu-prof) and page faults
// (process.resourceUsage()); docs/DECISIONS.md §§23–31 give the details. Shown in the
// results under any target that a run misses; the fixes belong in src/, not here.
// "The full runs" are those of 2026-12-05: bench/results/2026-12-05-vm.md (`npm run bench`,
// idle) and 2026-12-05-vm-loaded.md (`npm run bench -- --loaded`).
const HOT_PATH =
  'a 64 B trySend + tryReceive costs 5,630–5,661 instructions per message in one thread (a receive without ' +
  '`into`, as the bench\'s row; 5,317 with `into`), ~2,800 per side (`valgrind --tool=callgrind node ' +
  '--single-threaded --import tsx bench/micro/mailbox-loop.ts N new $PWD/dist/index.js`, N = 200,000 less N = 0, ' +
  'Node 20; docs/DECISIONS.md §28). ~2,300 of them are its 21 Atomics calls: no Node line (20, 22, 24, 26) inlines ' +
  'them, each is a builtin of ~100 instructions (a load) to 115–125 (a read-modify-write); besides the claim, ' +
  'publish and release of the slot they count the active senders and receivers (the switch to LIST mode waits for ' +
  'them) and the bytes in and out (stats()), check the removed flag and look for sleepers. The two payload copies ' +
  '(TypedArray.set) cost ~460, the two Date.now() (sentAt, the last-receive time) ~370. Across processes each ' +
  'side runs on a core of its own and the slot\'s cache lines move between them: any other load on 2 vCPUs takes ' +
  'a side\'s core';

/** The bridge rows: where a message's CPU goes, process by process (docs/DECISIONS.md §34). */
const BRIDGE_CPU =
  'the bridge row has five processes where the raw client has three, and on 2 vCPUs the rate follows the CPU all of ' +
  'them spend per message, which the rows print per process (`npm run bench -- --only bridge64,bridge4k`; ' +
  'docs/DECISIONS.md §34). With the export pipelined (§35), three full runs on this VM at load 18–19 gave 64 B: ' +
  'bridge 105–123 µs against 92–97 µs raw (0.76–0.89 of the raw client by CPU), 4 KiB: 160–171 µs against ' +
  '126–137 µs (0.75–0.80) — the target by CPU, at 4 KiB only just; before it, 125–147 against 83–102 µs and ' +
  '201–226 against 124–142 µs. The export bridge now costs less than the raw publisher (27–51 µs against ' +
  '40–58 µs), and nats-server the same within 3 µs. ' +
  'What the raw client does not pay is the import bridge\'s extra work — 32–48 µs against the raw consumer\'s ' +
  '17–23 µs: reading the headers, one awaited send per message into a mailbox that runs in list mode (a message ' +
  'with a remote origin always goes through the list: the store\'s lock, cells, memory given back with punched ' +
  'holes) and a ring of the receiver\'s doorbell for nearly every message (10 % of its samples in ' +
  '`--profile-helpers`) — and the receiving process itself, 12–24 µs per message, woken for each one as they ' +
  'arrive one by one';

export const WHY: Record<string, string> = {
  'bridge64-vs-raw':
    `${BRIDGE_CPU}. The rates under load swung from run to run more than the difference (bridge ÷ raw of the ` +
    'medians 0.61–1.31 in those three runs): compare runs, and the CPU per message. Fewer sends and wake-ups per ' +
    'message on the import side (a batch per delivery) are where the rest is.',
  'bridge4k-vs-raw':
    `${BRIDGE_CPU}. At 4 KiB the copies add to it (the export peeks each message out of shared memory, the import ` +
    'sends it into the list\'s cells, the receiver copies it out); the rates swung with the load (bridge ÷ raw of ' +
    'the medians 0.52–0.92 in those three runs).',
  'msg64-rate':
    `${HOT_PATH}. The full runs measured 4.25 M/s on the idle machine (met) and 1.15 M/s beside one CPU-bound ` +
    'process, which takes one of the two cores from the sender or the receiver part of the time.',
  'port-rate':
    'a port moves its messages through the Mailbox\u2019s ring (a port of 4096 × 64 B runs in ring mode), so it pays the ' +
    'single-message path described under the 3 M/s target (bench/lib/findings.ts), and 5 M/s leaves 200 ns per message on each side: ' +
    'the builtins that path must call alone are ~1,550 instructions per side (docs/DECISIONS.md §28, and see the ' +
    '12x postMessage target). A CPU profile of a Port.trySend / tryReceive loop in one thread, compiled (taken ' +
    'before the changes of docs/DECISIONS.md §23), put ~45 % in the ring\u2019s push and pop and ~5 % in what is the ' +
    'Port\u2019s own (the look-up of the number\u2019s cached port, one load of its table entry per send). The full runs: ' +
    '4.03 M/s idle, 1.05 M/s loaded.',
  'batch-vs-try':
    'met on the idle machine (3.23x: 13.8 M/s against 4.25 M/s in the full run). Beside a CPU-bound process the ' +
    'sender and the receiver no longer each run on a core of their own: they take turns with it, and the rate is ' +
    'bounded by the CPU both sides spend per message, not by the slower side (docs/DECISIONS.md §29). In one ' +
    'thread a batch message costs 2,133–2,160 instructions against 5,580–5,593 for the single form, 2.6x ' +
    '(`valgrind --tool=callgrind node --single-threaded batch-loop.mjs N 64`, bench/micro/batch-loop.ts bundled, ' +
    'Node 20, §29): below 3x even when nothing else is lost. What stays per message is one Atomics.load of the ' +
    'slot\'s sequence on each side, the publish compare-exchange per slot (crash recovery stands on it) and one copy ' +
    'in and one out (a slot\'s header lies between payloads). And when the two take turns, a receiver\'s call finds ' +
    'nothing or a full batch (§29, bench/micro/batch-xproc.ts on a loaded VM). Loaded run: 1.84 M/s against ' +
    '1.15 M/s (1.60x), the batch row swinging 1.49–2.81 M/s over its 7 runs.',
  'port-vs-mailbox':
    'the Port and the Mailbox share the ring, and the Port adds its number\u2019s look-up per send (see the 5 M/s target): on a ' +
    'busy 2-vCPU machine the two figures swing by more than that difference from run to run (the full runs: 0.95x ' +
    'idle, 4.03 M/s against 4.25 M/s; 0.91x loaded), so compare several runs.',
  'msg64-vs-postmessage':
    'worker.postMessage of 64 B measured 622 k/s (idle) and 642 k/s (loaded) in the full runs, so 12x asks 7.5–7.7 M/s ' +
    'of the Mailbox; the idle run gave 4.25 M/s. That is beyond the single-message path\'s floor ' +
    '(docs/DECISIONS.md §28): per message it calls ~3,100 instructions of builtins before any of its own JavaScript ' +
    'runs — the ring\'s 10 Atomics calls ~1,100, the activity counts ~470, the byte counters ~240, the removed flag ' +
    'and the looks for sleepers ~500, the two Date.now() ~370, the two copies ~460 — and Atomics are not inlined on ' +
    'any Node line (20, 22, 24, 26). 6 M/s leaves ~1,850 instructions per side, ~300 beyond those builtins, ' +
    'where the path\'s JIT code is ~1,050 (§28). It needs an engine that inlines Atomics or fewer atomic operations ' +
    'per message, which is what batches are (13.8 M/s idle).',
  'msg64-vs-cp-json':
    "child_process.send 'json' of a 64-character string is fast (365 k/s idle, 179 k/s loaded in the full runs: Node " +
    'batches queued messages into one writev), so 50x asks 9.0–18.3 M/s of the Mailbox: beyond the single-message ' +
    'path\'s floor, which puts even 6 M/s out of reach (see the 12x postMessage target).',
  'msg64-vs-cp-advanced':
    "as for 'json': 50x of child_process.send 'advanced' (144 k/s idle, 89.4 k/s loaded, the full runs) asks " +
    '4.5–7.2 M/s of the Mailbox, which measured 4.25 M/s idle and 1.15 M/s loaded; see the 3 M/s and 12x ' +
    'postMessage targets.',
  'fanin-vs-unix':
    'met on the idle machine (2.47x: 2.31 M/s against 937 k/s in the full run). Fan-in is bound by CPU per message, ' +
    'not by wakes: the receiver\'s first tryReceive found a message in all but 35–89 of 400,000–1,200,000 receives, ' +
    'a sender\'s first trySend found room in 99.7–99.95 % of its sends, 0.005 system calls per message on the ' +
    'receiver\'s thread; a message costs the receiver 0.43–0.48 µs and the four senders together 0.70–0.73 µs of ' +
    'CPU (`node --import tsx bench/micro/fanin-wakes.ts`, 4 × 300,000, on the loaded VM; docs/DECISIONS.md §30). ' +
    'Five processes that keep both CPUs busy give a CPU-bound process beside them its share straight off the rate, ' +
    'and a woken sender preempts the receiver that woke it (23 % of the receiver\'s samples in a CPU profile, §30). ' +
    'Loaded run: ' +
    '1.42 M/s (−39 %) against a socket\'s 734 k/s (−22 %), 1.94x.',
  'fanin-vs-pipe':
    'see the target against a Unix socket: the same CPU per message on five processes beside a CPU-bound one. Met ' +
    'idle (2.41x, against 957 k/s), loaded 1.98x (1.42 M/s against 720 k/s).',
  'rtt-spin':
    'a C hop is one cache-line store seen by a spinning load; a Mailbox hop is a trySend and a tryReceive, ' +
    '~5,600 instructions together, 21 of them Atomics calls (docs/DECISIONS.md §28), plus the slot\'s lines moving ' +
    'between cores, and each empty poll of tryReceive makes 5 Atomics calls (the active-receivers add and sub, ' +
    'MODE, DEQUEUE, the head slot\'s sequence; ~100–125 instructions each), which delays ' +
    'noticing the message. The timing itself costs 2 performance.now() per round trip (see Clock). The full runs: ' +
    '1.98 µs idle (952 ns – 2.03 µs over its 7 runs) and 911 ns loaded, against 110–120 ns for C.',
  'rtt-park':
    'each blocking hop of receiveSync goes through the generator driver, takes the store lock to register as a ' +
    'waiting receiver and again to release the slot after waking, and makes its futex calls through N-API, where the ' +
    'C ping-pong does one FUTEX_WAIT and one FUTEX_WAKE. The wake-up itself is common to both: on the idle VM two ' +
    'wake-ups of a halted vCPU per round trip, 15–20 µs each (docs/DECISIONS.md §27), which is why the target is met ' +
    'there (54.7 µs against 38.9 µs, 1.41x, the idle full run). Beside a CPU-bound process the Mailbox\'s sync round ' +
    'trip measured p50 15.2–16.4 µs and 10.8–19.0 µs of CPU per round trip in each process ' +
    '(`node --import tsx bench/micro/rtt-wake.ts`, its futex path, §27): that CPU, not the wake, is the gap there ' +
    '(loaded run: 14.9 µs against 4.51 µs).',
  'rtt-async-postmessage':
    'met on the idle machine (1.66 µs: by default a receive polls up to 10 µs before it sleeps, and two processes ' +
    'catch each other\'s answers while polling). On a loaded one the answer comes later than the poll, and after 8 ' +
    'futile polls in a row the receive halves its window at each such sleep, down to nothing ' +
    '(src/channel/spin-policy.ts, docs/DECISIONS.md §27): it then sleeps as with spin: 0 and misses for the reasons ' +
    'given there. The loaded run: 19.6 µs by default, 18.9 µs with spin: 0, against 15.7 µs for postMessage and ' +
    '19.0 µs for a Unix socket; quick runs with `--loaded` (`node --import tsx bench/run.ts --quick --loaded --only ' +
    'rtt/mailbox-async,rtt/unix,thread-rtt/postmessage`, §31) gave the default 16.2–20.9 µs, the socket 17.6–19.9 µs ' +
    'and postMessage 16.2–16.3 µs: within each other\'s swing.',
  'rtt-async-unix': 'see the target against postMessage: the same polls and sleeps, the same reasons.',
  'rtt-sleep-postmessage':
    'the wake path is not the gap: the doorbell alone round trips as fast as a Unix socket and the Mailbox makes the ' +
    'same syscalls per sleep as the doorbell alone (one sendto, one recvmmsg, 1.07–1.13 epoll_pwait; strace -f -c, ' +
    'docs/DECISIONS.md §27, §31). The gap is the CPU around each wake-up, on the critical path, twice per round trip. ' +
    'After §31\'s cuts (a timer and an abort listener per sleep, the drain\'s allocations, two promise layers, a ' +
    'look that could not find anything) a sleep cycle costs 32,726 instructions against 10,538 for the doorbell alone ' +
    '(callgrind over bench/micro/sleep-count.ts, Node 20) and 8.3–9.0 µs of CPU against 5.0–5.5 µs ' +
    '(`node --import tsx bench/micro/sleep-cycle.ts`, loaded VM). What remains is the store\'s sleep protocol: two ' +
    'rounds of the store lock (register the receiver slot, release it after the wake), ~48 Atomics.load and ~30 ' +
    'other Atomics calls per cycle, and the generator driver; registering without the lock and keeping the slot ' +
    'across wake-ups would change the wake protocol and were not attempted (§31). On the idle VM every sleeping ' +
    'round trip, of any transport, also pays two wake-ups of a halted vCPU, 15–20 µs each (§27). Counted per ' +
    'thread (`node --import tsx bench/micro/rtt-switches.ts 20000`, §37) the Mailbox wakes each side once per ' +
    'round trip, exactly as a socket does (postMessage twice), with no other thread involved; warm, a hop costs it ' +
    '~1.5 µs of JavaScript more than the doorbell alone, ~3 µs per round trip, a fifth of the idle gap; the rest ' +
    '(how the longer path runs right after a halted vCPU wakes, process against thread) needs an idle machine ' +
    'to split. A cut of the second lock round per sleep was measured and taken out: it made fan-in senders look for ' +
    'sleepers (§37). The full runs of 2026-12-05: idle 60.9 µs against 50.2 µs for postMessage and 58.3 µs for a ' +
    'Unix socket; loaded 19.2 µs against 15.9 µs (missed) and 20.1 µs (met).',
  'rtt-sleep-unix': 'see the target against postMessage: the same CPU around each wake-up.',
  'bw-memcpy':
    'the best Mailbox rows receive into a reused buffer: one copy into shared memory by the sender and one out by ' +
    'the receiver, on two cores at once, and each 1 MiB crosses between the cores. V8 copies SharedArrayBuffer ' +
    'memory with relaxed-atomic word moves, not the vectorized memcpy it uses for ordinary memory: in one thread, ' +
    'in cache, 1 MiB TypedArray.set() runs at 18–20 GB/s into or out of a SharedArrayBuffer against 37–40 GB/s ' +
    'between ordinary ArrayBuffers (node --import tsx bench/micro/sab-copy.ts). The C baseline itself swings ' +
    'with where the host puts the vCPUs: 12–13 GB/s in some full runs on this VM, 20–21 GB/s in others, and the ' +
    'Mailbox rows 7.5–8.5 GB/s (24 GB/s in one run), so this target is met in some runs and missed in others. The ' +
    'rows without `into` also pay a fresh 1 MiB ArrayBuffer per message, whose pages fault in one by one (60–215 ' +
    'minor faults per message).',
  'queue-vs-sysv':
    'every MessageQueue runs in the store’s list mode (a ring counts messages, a queue is full by bytes: ' +
    'src/queue/queue-options.ts), so each send and each receive takes the store’s lock, and a sender and a receiver in ' +
    'two processes at full rate contend for it: in the receiving helper’s CPU profile (bench --profile-helpers, ' +
    '--only msg64/queue-async) ~14 % went to the lock’s own code, ~14 % to futex waits and wakes on the contended lock ' +
    'and ~8 % to collecting one new ArrayBuffer per message. The work itself is not the gap: in one process, compiled, a ' +
    'send + receive pair costs ~0.9–1.0 µs of CPU and the kernel’s msgsnd + msgrcv ~1.6 µs; across processes the kernel ' +
    'holds its queue’s spinlock for a few instructions and never sleeps on it. On this 2-vCPU VM, busy with other work ' +
    '(load 3–6), the ratio swung from 0.24 to 2.3 over nine quick runs, six of them between 0.5 and 0.75.',
  'pipe-stream-vs-os':
    'the OS pipe and the Unix socket move 64 KiB writes at 1.4–3.6 GB/s on this 2-vCPU VM, swinging with the load ' +
    '(one kernel copy in, one out), so 2x means 3–7 GB/s; the stream form measured 3.5–4.0 GB/s in full runs. A Pipe copies into and out of shared memory at several GB/s per side; what holds it back ' +
    'is waiting. A side that finds the ring full (the writer) or empty (the reader) sleeps, and on a busy VM a ' +
    'wake-up takes 100 µs or more (futex wake, the addon’s waiter thread, the event loop): meanwhile the other side ' +
    'fills or drains the 1 MiB ring and sleeps too, so both are often idle at once. CPU profiles of a 2 GiB stream ' +
    'between two processes (--cpu-prof on both, capacity 1 MiB, compiled): writer 61 % idle, 15 % copying, 8 % ' +
    'registering event-loop waits; reader 44 % idle, 14 % copying, 9 % registering waits, 7 % waking the writer, ' +
    '6 % collecting the new 64 KiB Buffer each stream chunk is. Waking a blocked writer only once a quarter of the ' +
    'ring is free, instead of after every read, cut the writer’s share in waits from 22 % to 8 % and the reader’s ' +
    'in wakes from 18 % to 7 %; a larger ring shortens the stalls further (pipe({ capacity: 4 << 20 }): 4.0–4.4 GB/s ' +
    'for the stream form in the sweep of docs/DECISIONS.md §17). The stream form also pays per chunk for a fresh ' +
    "Buffer, the Readable's push and 'data' and a 'drain' before the next write(); polling a few microseconds " +
    'before sleeping, larger stream reads, read buffers carved from a shared slab and a larger Writable ' +
    'highWaterMark were measured and did not help.',
  'pipe-bytes-vs-os':
    'see the stream form: the same sleeps and wake-ups while the ring is full or empty; the plain form reads into ' +
    'one reused buffer, so it has no per-chunk allocation and usually meets the target, but under load its runs swing ' +
    'as widely as the peers’ (compare runs).',
  'bw-unix':
    'the same fresh 1 MiB ArrayBuffer per received message (page faults of new memory) as for the memcpy target; the ' +
    'socket pays two kernel copies and a similar reassembly buffer (Buffer.concat of its 64 KiB reads), so the ratio ' +
    'stays near 2x for the rows that allocate per message; see the rows receiving `into` a reused buffer.',
  'msg64-after-typed':
    'once the list is empty, no selective receiver waits and the list has not been needed for 100 ms, the store goes ' +
    'back to RING mode (docs/DECISIONS.md §26) and this row runs the path of a fresh mailbox: in one thread 2.09–2.11 M ' +
    'messages per CPU-second against 1.99–2.24 M fresh (a 64 B trySend + tryReceive loop, process.cpuUsage). The two ' +
    'rows swing with the load by more than 20 % (the loaded full run: this row 770 k/s – 1.12 M/s over its 7 runs, ' +
    'the fresh one 967 k/s – 1.40 M/s): compare runs.',
  'msg64-typed':
    'a receive by type is served by the ring while its head is of that type (docs/DECISIONS.md §26): in one thread ' +
    '1.96–1.97 M messages per CPU-second against 1.99–2.24 M for plain traffic (a 64 B trySend + tryReceive loop, ' +
    'process.cpuUsage), so across processes it is held back by what holds the plain try (see the 3 M/s target): ' +
    'the full runs measured 3.51 M/s idle (met; the plain try 4.25 M/s) and 1.03 M/s beside a CPU-bound process ' +
    '(the plain try 1.15 M/s, itself missing 3 M/s there).',
};
