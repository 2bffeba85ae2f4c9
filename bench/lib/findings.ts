// Why a target is missed: what was measured, and by which command, on the 2-vCPU AMD EPYC VM
// (Node 20.20) the bench's results come from: instruction counts (callgrind),
// CPU time per message (process.cpuUsage), CPU profiles (--cpu-prof) and page faults
// (process.resourceUsage()); docs/DECISIONS.md §§23–27 give the details. Shown in the
// results under any target that a run misses; the fixes belong in src/, not here.
const HOT_PATH =
  'a 64 B trySend + tryReceive({ into }) costs 5,270 instructions per message in one thread, ~2,600 per side ' +
  '(`valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/mailbox-loop.ts N into`, N = 400,000 ' +
  'less N = 0; docs/DECISIONS.md §23). 2,490 of them are its 22 Atomics calls: on Node 20 none is inlined, each is ' +
  'a builtin of 100–200 instructions; besides the claim and publish compare-exchanges they count the active ' +
  'senders and receivers (the switch to LIST mode waits for them) and the bytes in and out (stats()). The payload ' +
  'copies (TypedArray.set, one per side) 445, the two Date.now() (sentAt, the last-receive time) 380. Across ' +
  'processes each side runs on a core of its own and the slot\'s cache lines move between them: any other load on ' +
  '2 vCPUs takes a side\'s core'

export const WHY: Record<string, string> = {
  'msg64-rate':
    `${HOT_PATH}. The full runs of 2026-12-05 (\`npm run bench\`, then with \`-- --loaded\`) measured 3.74 M/s on the ` +
    'idle machine and 1.22 M/s beside one CPU-bound process.',
  'port-rate':
    'a port moves its messages through the Mailbox\u2019s ring (a port of 4096 × 64 B runs in ring mode), so it pays the ' +
    'single-message path described under the 3 M/s target, and 5 M/s leaves 200 ns per message on each side. A CPU ' +
    'profile of a Port.trySend / tryReceive loop in one thread, compiled (taken before the changes of ' +
    'docs/DECISIONS.md §23), put ~45 % in the ring\u2019s push and pop and ~5 % in what is the Port\u2019s own (the look-up ' +
    'of the number\u2019s cached port, one load of its table entry per send).',
  'batch-vs-try':
    'a batch pays once per call what a single message pays each time (activity counts, the MODE check, the position ' +
    'compare-exchange, the wake words, the look for sleepers): callgrind counts 4,059 instructions per 64 B message for ' +
    'trySendMany(64) + tryReceiveMany(64, into) in one thread against 7,481 for trySend + tryReceive (1.84x). What stays ' +
    'is per message: a Uint8Array view per received message and one of the slot, the Envelope and Message objects and ' +
    'their garbage, each value\'s encode and length check, and per slot the header writes, the publish CAS and the ' +
    'release; a CPU profile of the batch loop puts ~40 % in the copy-out and release, 6–8 % in the collector ' +
    '(docs/DECISIONS.md §24).',
  'port-vs-mailbox':
    'the Port and the Mailbox share the ring, and the Port adds its number\u2019s look-up per send (see the 5 M/s target): on a ' +
    'busy 2-vCPU machine the two figures swing by more than that difference from run to run, so compare several runs.',
  'msg64-vs-postmessage':
    'worker.postMessage of 64 B measured 656 k/s (idle) and 669 k/s (loaded) in the full runs of 2026-12-05, so 12x asks ' +
    '~8 M/s of the Mailbox, ~125 ns per message on each side; the idle run\'s 3.74 M/s is ~270 ns, for a ' +
    'single-message path of ~2,600 instructions per side (see the 3 M/s target).',
  'msg64-vs-cp-json':
    "child_process.send 'json' of a 64-character string is fast (251 k/s idle, 157 k/s loaded in the full runs of " +
    '2026-12-05: Node batches queued messages into one writev), so 50x asks 7.9–12.6 M/s of the Mailbox, 80–130 ns per ' +
    'message per side: less than the single-message path costs on one core alone (see the 3 M/s target).',
  'msg64-vs-cp-advanced':
    "as for 'json': 50x of child_process.send 'advanced' (103 k/s idle, 58.8 k/s loaded, 2026-12-05) asks 2.9–5.2 M/s of " +
    'the Mailbox; see the 3 M/s target.',
  'fanin-vs-unix':
    'the wakes are no longer the cost: senders asleep wish for a quarter of the ring and a take wakes them once ' +
    '(docs/DECISIONS.md §25), and the receiver\'s doorbell rings fell from 2,558–4,414 to 308–949 per 400,000 takes ' +
    '(`node --import tsx bench/micro/fanin-wakes.ts 100000 4`, four runs each on the loaded VM). The same command ' +
    'measured the CPU per message: 0.80–1.03 µs in the receiver (the awaited receive), 1.43–1.72 µs in the four ' +
    'senders together (the send path, and their contention on the claim of ENQUEUE). On 2 CPUs that allows ' +
    '~0.85 M/s when they do nothing else (CPU time runs high on a loaded VM): about a socket\'s rate, not twice it. ' +
    'What is left is the cost of each send and receive (see the 3 M/s target).',
  'fanin-vs-pipe': 'see the target against a Unix socket: the same per-message cost of the sends and the awaited receive.',
  'rtt-spin':
    'a C hop is one cache-line store seen by a spinning load; a Mailbox hop is a trySend and a tryReceive of ' +
    '~2,600 instructions each (see the 3 M/s target) plus the slot\'s lines moving between cores, and each empty ' +
    'poll of tryReceive makes 5 Atomics calls (the active-receivers add and sub, MODE, DEQUEUE, the head slot\'s ' +
    'sequence; 100–200 instructions each on Node 20, docs/DECISIONS.md §23), which delays noticing the message. The ' +
    'timing itself costs 2 performance.now() per round trip (see Clock).',
  'rtt-park':
    'each blocking hop of receiveSync goes through the generator driver, takes the store lock to register as a ' +
    'waiting receiver and again to release the slot after waking, and makes its futex calls through N-API, where the ' +
    'C ping-pong does one FUTEX_WAIT and one FUTEX_WAKE. The wake-up itself is common to both: on the idle VM two ' +
    'wake-ups of a halted vCPU per round trip, 15–20 µs each (docs/DECISIONS.md §27). Beside a CPU-bound process the ' +
    'Mailbox\'s sync round trip measured p50 15.2–16.4 µs and 10.8–19.0 µs of CPU per round trip in each process ' +
    '(`node --import tsx bench/micro/rtt-wake.ts`, its futex path, §27): that CPU, not the wake, is the gap there.',
  'rtt-async-postmessage':
    'by default a receive polls up to 10 µs before it sleeps; on an idle machine two processes catch each other\'s ' +
    'answers while polling. On a loaded one the answer comes 20–40 µs after the request, the poll never catches it, and ' +
    'after 8 futile polls in a row the receive halves its window at each such sleep, down to nothing ' +
    '(src/channel/spin-policy.ts): it then sleeps as with spin: 0 and misses for the reason given there. `npm run bench -- --quick --only rtt/mailbox-async` on the loaded ' +
    'VM: p50 23.1–27.0 µs by default, 22.8–29.5 µs with spin: 0 in the same runs (docs/DECISIONS.md §27).',
  'rtt-async-unix': 'see the target against postMessage: the same polls and sleeps, the same reasons.',
  'rtt-sleep-postmessage':
    'the wake path is not the gap: the doorbell alone round trips as fast as a Unix socket (17.5–19.0 µs against ' +
    '17.6–18.6 µs p50, `node --import tsx bench/micro/rtt-wake.ts` on the loaded VM) and the Mailbox makes no syscall ' +
    'per message beyond it (strace -c). The gap is the CPU around each wake-up, on the critical path: a sleeping ' +
    'receive, the send that wakes it and the delivery cost 12.0–12.6 µs of CPU against 6.5–6.7 µs for the doorbell ' +
    'alone (`node --import tsx bench/micro/sleep-cycle.ts 100000`), spread over the store\'s sleep protocol (lock, ' +
    'register a receiver slot, unlock, look again; after the wake lock, release the slot, unlock), the generator and ' +
    'promise layers of receive() and the sender\'s look for sleepers, none above ~1 µs in a CPU profile. A round trip ' +
    'has two of them, ~11–12 µs; receiving `into` a buffer does not change it. On the idle VM every sleeping round ' +
    'trip, of any transport, also pays two wake-ups of a halted vCPU, 15–20 µs each (docs/DECISIONS.md §27).',
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
    'rows swing with the load by more than 20 % (loaded, 2026-12-05: this row 791 k/s – 1.27 M/s, the fresh one ' +
    '1.02–1.65 M/s): compare runs.',
  'msg64-typed':
    'a receive by type is served by the ring while its head is of that type (docs/DECISIONS.md §26): in one thread ' +
    '1.96–1.97 M messages per CPU-second against 1.99–2.24 M for plain traffic (a 64 B trySend + tryReceive loop, ' +
    'process.cpuUsage), so across processes it is held back by what holds the plain try (see the 3 M/s target): ' +
    '2.84 M/s on the idle machine, 920 k/s beside a CPU-bound process (full runs of 2026-12-05).',
};
