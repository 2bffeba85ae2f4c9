// Why a target is missed: what was measured, and by which command, on the 2-vCPU AMD EPYC VM
// (Node 20.20) the bench's results come from: instruction counts (callgrind),
// CPU time per message (process.cpuUsage), CPU profiles (--cpu-prof) and page faults
// (process.resourceUsage()), and what the scheduler did to each process (bench/lib/sched-meter.ts);
// docs/DECISIONS.md §§23–31, 37 and 40 give the details. Shown in the
// results under any target that a run misses; the fixes belong in src/, not here.
// "The full runs" are those of 2026-12-05: bench/results/2026-12-05-vm.md (`npm run bench`,
// idle) and 2026-12-05-vm-loaded.md (`npm run bench -- --loaded`).
const HOT_PATH =
  'a 64 B trySend + tryReceive costs 5,630–5,661 instructions per message in one thread (a receive without ' +
  '`into`, as the bench\'s row; 5,317 with `into`), ~2,800 per side (`valgrind --tool=callgrind node ' +
  '--single-threaded --import tsx bench/micro/mailbox-loop.ts N new $PWD/dist/index.js`, N = 200,000 less N = 0, ' +
  'Node 20; docs/DECISIONS.md §28; since the ring sums its bytes from its slots when asked, 274 fewer: 5,271 → 4,997 ' +
  'in §39\'s loop count). ~2,100 of them are its 19 Atomics calls: no Node line (20, 22, 24, 26) inlines ' +
  'them, each is a builtin of ~100 instructions (a load) to 115–125 (a read-modify-write); besides the claim, ' +
  'publish and release of the slot they count the active senders and receivers (the switch to LIST mode waits for ' +
  'them), check the removed flag and look for sleepers. The two payload copies ' +
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
    `${HOT_PATH}. The full runs measured 3.96 M/s on the idle machine (met) and 1.55 M/s beside one CPU-bound ` +
    'process: three runnable tasks on two CPUs, so the sender and the receiver run at once at most a third of the ' +
    'time, and while one runs alone it moves at most the ring\'s free room and then spins (docs/DECISIONS.md §40).',
  'port-rate':
    'a port moves its messages through the Mailbox\u2019s ring (a port of 4096 × 64 B runs in ring mode), so it pays the ' +
    'single-message path described under the 3 M/s target (bench/lib/findings.ts), and 5 M/s leaves 200 ns per message on each side: ' +
    'the builtins that path must call alone are ~1,550 instructions per side (docs/DECISIONS.md §28, and see the ' +
    '12x postMessage target). A CPU profile of a Port.trySend / tryReceive loop in one thread, compiled (taken ' +
    'before the changes of docs/DECISIONS.md §23), put ~45 % in the ring\u2019s push and pop and ~5 % in what is the ' +
    'Port\u2019s own (the look-up of the number\u2019s cached port, one load of its table entry per send). The full runs: ' +
    '4.01 M/s idle, 1.06 M/s loaded.',
  'batch-vs-try':
    'met on the idle machine (3.45x: 13.7 M/s against 3.96 M/s in the full run). Beside a CPU-bound process both ' +
    'rows spin (trySend / trySendMany retry while the ring is full, the receives while it is empty), and a batch is ' +
    'faster per message only while the sender and the receiver run at once: three runnable tasks on two CPUs let the ' +
    'pair run together at most a third of the time, and while one side runs alone either row moves at most the ' +
    "ring's free room (4096 messages) and spins, which adds the same messages to both rows and pulls the ratio " +
    'towards 1. For the full loaded run (3.49 M/s against 1.55 M/s, 2.25x), rate = f × idle rate + L solved for ' +
    'both rows gives f = 0.20 of the time together (at most 1/3 with one hog) and L = 0.76 M/s moved alone. Traced (`INTERPROC_BENCH_SCHED=1` under `perf ' +
    'record -e sched:sched_switch`, bench/micro/sched-overlap.ts; docs/DECISIONS.md §40) on a machine loaded by others ' +
    '(load average 25–49): the pair on a CPU at once 0.0–1.1 % of the window, and batch ÷ try 0.25–3.23 over eight ' +
    'runs — the ratio follows the schedule, not the code.',
  'port-vs-mailbox':
    'the Port and the Mailbox share the ring, and the Port adds its number\u2019s look-up per send (see the 5 M/s target): on a ' +
    'busy 2-vCPU machine the two figures swing by more than that difference from run to run (the full runs: 1.01x ' +
    'idle, 4.01 M/s against 3.96 M/s; 0.68x loaded, 1.06 M/s against 1.55 M/s), so compare several runs.',
  'msg64-vs-postmessage':
    'worker.postMessage of 64 B measured 667 k/s (idle) and 649 k/s (loaded) in the full runs, so 12x asks 7.8–8.0 M/s ' +
    'of the Mailbox, ~125 ns per message per side; the idle run gave 3.96 M/s (5.94x). That is beyond the ' +
    'single-message path\'s floor (docs/DECISIONS.md §28, counted again on this code in §40: 5,914–5,982 ' +
    'instructions per message in one thread, §28\'s count within the runs\' swing): per message it calls ~3,100 instructions of builtins before any of its own JavaScript ' +
    'runs — the ring\'s 10 Atomics calls ~1,100, the activity counts ~470, the byte counters ~240 (gone since: §39), the removed flag ' +
    'and the looks for sleepers ~500, the two Date.now() ~370, the two copies ~460 — and Atomics are not inlined on ' +
    'any Node line (20, 22, 24, 26). 6 M/s leaves ~1,850 instructions per side, ~300 beyond those builtins, ' +
    'where the path\'s JIT code is ~1,050 (§28). It needs an engine that inlines Atomics or fewer atomic operations ' +
    'per message, which is what batches are (13.7 M/s idle).',
  'msg64-vs-cp-json':
    "child_process.send 'json' of a 64-character string is fast (375 k/s idle, 169 k/s loaded in the full runs: Node " +
    'batches queued messages into one writev), so 50x asks 8.5–18.8 M/s of the Mailbox: beyond the single-message ' +
    'path\'s floor, which puts even 6 M/s out of reach (see the 12x postMessage target).',
  'msg64-vs-cp-advanced':
    "as for 'json': 50x of child_process.send 'advanced' (144 k/s idle, 72.2 k/s loaded, the full runs) asks " +
    '3.6–7.2 M/s of the Mailbox, which measured 3.96 M/s idle and 1.55 M/s loaded; see the 3 M/s and 12x ' +
    'postMessage targets.',
  'fanin-vs-unix':
    'met on the idle machine (2.53x: 2.44 M/s against 962 k/s in the full run). A busy loop takes what it can get: ' +
    'from a fan-in that keeps both CPUs busy its share, from one that leaves CPU unused mostly the unused part. The ' +
    'Mailbox\'s fan-in keeps both busy (nobody sleeps or wakes per message, docs/DECISIONS.md §30: 2 CPUs ÷ ' +
    '2.44 M/s = 0.82 µs per message), so beside the loop it lost 49 % (1.25 M/s). A socket\'s message cost ' +
    '1.10–1.65 times the Mailbox\'s CPU in the same runs (the five processes\' main threads, six runs of ' +
    '`INTERPROC_BENCH_SCHED=1 node --import tsx bench/run.ts --loaded --only ' +
    'fanin64/mailbox-async,fanin64/unix,fanin64/pipe` and without `--loaded`, on a machine loaded by others; §40), ' +
    'which puts its fan-in at 962 k/s on 0.55–1.3 of the two CPUs, sleeping between wake-ups: beside the loop it ' +
    'lost 20 % (766 k/s), the loop taking mostly the CPU it left idle.',
  'fanin-vs-pipe':
    'see the target against a Unix socket: a pipe\'s message cost 0.83–1.62 times the Mailbox\'s CPU in the same ' +
    'runs, which puts its fan-in at 1.02 M/s idle on 0.45–1.35 of the two CPUs, and the busy loop takes mostly the ' +
    'rest (docs/DECISIONS.md §40). Met idle (2.38x), loaded 1.54x (1.25 M/s against 810 k/s: the pipe lost 21 % ' +
    'beside the loop, the Mailbox 49 %).',
  'rtt-spin':
    'a C hop is one cache-line store seen by a spinning load; a Mailbox hop is a trySend and a tryReceive, ' +
    '~5,600 instructions together (~5,300 since §39), 21 of them Atomics calls (docs/DECISIONS.md §28; 19 since §39), plus the slot\'s lines moving ' +
    'between cores, and each empty poll of tryReceive makes 5 Atomics calls (the active-receivers add and sub, ' +
    'MODE, DEQUEUE, the head slot\'s sequence; ~100–125 instructions each), which delays ' +
    'noticing the message. The timing itself costs 2 performance.now() per round trip (see Clock). The full runs: ' +
    '2.01 µs idle (2.00–2.03 µs over its 7 runs) and 941 ns loaded, against 110 ns for C.',
  'rtt-park':
    'each blocking hop of receiveSync goes through the generator driver, takes the store lock to register as a ' +
    'waiting receiver and again to release the slot after waking, and makes its futex calls through N-API, where the ' +
    'C ping-pong does one FUTEX_WAIT and one FUTEX_WAKE. The wake-up itself is common to both: on the idle VM two ' +
    'wake-ups of a halted vCPU per round trip, 15–20 µs each (docs/DECISIONS.md §27), which is why the target is met ' +
    'there (54.4 µs against 39.3 µs, 1.38x, the idle full run). Beside a CPU-bound process the Mailbox\'s sync round ' +
    'trip measured p50 15.2–16.4 µs and 10.8–19.0 µs of CPU per round trip in each process ' +
    '(`node --import tsx bench/micro/rtt-wake.ts`, its futex path, §27): that CPU, not the wake, is the gap there ' +
    '(loaded run: 14.7 µs against 4.53 µs).',
  'rtt-async-postmessage':
    'met on the idle machine (1.65 µs: by default a receive polls up to 10 µs before it sleeps, and two processes ' +
    'catch each other\'s answers while polling). On a loaded one the answer comes later than the poll, and after 8 ' +
    'futile polls in a row the receive halves its window at each such sleep, down to nothing ' +
    '(src/channel/spin-policy.ts, docs/DECISIONS.md §27): it then sleeps as with spin: 0, and misses for the same ' +
    'reason (see that target): beside busy CPUs the two sides run one after the other on one CPU, so a round trip ' +
    'is the CPU both spend on it, and worker.postMessage, between two threads of one process, mostly spends the ' +
    'least (docs/DECISIONS.md §40). The loaded full run: 19.8 µs by default, 19.2 µs with spin: 0, against 15.9 µs ' +
    'for postMessage, 20.1 µs for a Unix socket and 19.0 µs for a pipe; between threads the Mailbox with spin: 0 ' +
    'took 16.5 µs.',
  'rtt-async-unix': 'see the target against postMessage: the same polls and sleeps, the same reasons.',
  'rtt-sleep-postmessage':
    'beside a CPU-bound process (loaded full run: 19.2 µs against 15.9 µs) the two sides of a round trip run one ' +
    'after the other on one CPU — traced, 99.9–100 % of the times a side was switched in it was on the CPU its peer ' +
    'ran on last — so the round trip is the CPU both spend on it: over seven runs (`INTERPROC_BENCH_SCHED=1 node ' +
    '--import tsx bench/run.ts --quick --loaded --only rtt/mailbox-async,rtt/unix,rtt/pipe,thread-rtt/postmessage`, ' +
    'docs/DECISIONS.md §40) every row\'s p50 was 0.60–0.95 of its CPU per round trip, postMessage spent 18.9–24.2 µs ' +
    '(the least in six runs of seven), a socket 26.2–33.1 µs, the Mailbox with spin: 0 24.8–27.4 µs between ' +
    'processes when the woken side preempted its waker (a third of the receives then found the reply before ' +
    'sleeping; p50 below the socket\'s) and 36.0–39.1 µs when nearly every receive slept. What the Mailbox spends beyond it is its sleep cycle: 32,726 instructions per sleep and wake ' +
    'against 10,538 for its doorbell alone (callgrind over bench/micro/sleep-count.ts, §31), twice per round trip; ' +
    'and postMessage runs between threads (the Mailbox between threads: 16.5 µs in the same run). On the idle ' +
    'machine (60.9 µs against 50.2 µs for postMessage and 58.3 µs for a socket) each side wakes on the other, halted ' +
    'vCPU: the C futex ping-pong, nothing but those two wakes, took 39.3 µs, and above it postMessage spends 10.9 µs, ' +
    'a socket 19.0 and the Mailbox 21.6 (22.9 between threads, so idle it is not process against thread). The ' +
    'Mailbox wakes each side once per round trip, as a socket does (bench/micro/rtt-switches.ts, §37); a traced hop ' +
    'from the wake to the reply took 9–12 µs against a socket\'s 5–6 µs (§37): the sleep cycle again, run with cold ' +
    'caches after a vCPU wakes, which only an idle machine can trace. A cut of the second lock round per sleep was ' +
    'measured and taken out: it made fan-in senders look for sleepers (§37).',
  'rtt-sleep-unix':
    'see the target against postMessage: the same longer hop after each wake-up. Idle, the full run put the Mailbox ' +
    '2.6 µs above the socket (60.9 µs, 60.6–62.0 over 7 runs, against 58.3 µs, 57.3–58.8; docs/DECISIONS.md §40).',
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
    'messages per CPU-second against 1.99–2.24 M fresh (a 64 B trySend + tryReceive loop, process.cpuUsage); the idle ' +
    'full run measured 103 %. Beside a CPU-bound process both rows are spinning pairs whose rate follows how often ' +
    'the scheduler runs the two sides at once (see the batch target; §40): the loaded full run gave this row ' +
    '896 k/s – 1.65 M/s over its 7 runs and the fresh one 703 k/s – 1.93 M/s, overlapping ranges, and on a machine ' +
    'loaded by others this row ÷ the fresh one measured 0.60–4.0 over six alternating runs (§40): the median ratio ' +
    'says which row had the worse schedule.',
  'msg64-typed':
    'a receive by type is served by the ring while its head is of that type (docs/DECISIONS.md §26): in one thread ' +
    '1.96–1.97 M messages per CPU-second against 1.99–2.24 M for plain traffic (a 64 B trySend + tryReceive loop, ' +
    'process.cpuUsage), so across processes it follows the plain try: 0.84 of it idle (3.33 M/s against 3.96 M/s, ' +
    'met), 0.85 beside a CPU-bound process (1.31 M/s against 1.55 M/s), where the plain try itself misses 3 M/s ' +
    'because the two sides of a spinning pair run at once only part of the time (see the batch target; §40).',
};
