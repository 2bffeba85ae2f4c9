// Why a target is missed: what profiling found (--cpu-prof of the compiled Mailbox, page
// fault counts from process.resourceUsage(), and single-thread timings of trySend /
// tryReceive on a 2-vCPU AMD EPYC VM, kvm-clock, Node 20). Shown in the results under any
// target that a run misses; the fixes belong in src/ and its issues, not here.
const HOT_PATH =
  'the ring path costs ~330–370 ns of CPU per message sent and received even on one core with no contention ' +
  '(a trySend/tryReceive loop of 64 B in one thread, compiled): a fresh ArrayBuffer per received message ' +
  '(TypedArray slice, ~90 ns for 64 B), two Date.now() (sentAt, and the last-receive time of stats(): ~70 ns each ' +
  'on a kvm-clock VM), and 11 atomic read-modify-writes per message — the ring itself needs a compare-exchange to ' +
  'claim and one to publish on each side, the rest is bookkeeping that recovery and stats() rely on (active ' +
  'sender and receiver counts up and down, byte totals in and out, both wake sequences). Across processes both ' +
  'sides run at once on their own cores, so the rate is set by the slower side plus the cache lines moving ' +
  'between them'

export const WHY: Record<string, string> = {
  'msg64-rate':
    `${HOT_PATH}. 3 M/s leaves 330 ns per message; each message moves the slot's cache lines between the cores ` +
    '(~200 ns per transfer on this VM: half the C spin round trip), and each side needs a CPU of its own, so any ' +
    'other load on the machine pulls the figure well below (on a quiet machine the same code measures 3.2–4.1 M/s). ' +
    'A batch API (many messages per call) would amortize the per-call work.',
  'port-rate':
    'a port moves its messages through the same lock-free ring as a Mailbox (a port of 4096 × 64 B runs in ring mode), ' +
    'so it pays the ring path’s cost per message described under the 3 M/s target, and 5 M/s leaves 200 ns per message ' +
    'for both sides together. A CPU profile of a Port.trySend / tryReceive loop in one thread, compiled, puts ~45 % in the ' +
    'ring’s tryPush and tryPop and only ~5 % in what is the Port’s own (the look-up of the number’s cached port and one ' +
    'load of its table entry per send); on this VM such a loop costs 0.7–1.0 µs per message against 0.55–0.85 µs for the ' +
    'Mailbox’s, both swinging with the load. A batch API would amortize the per-call work for both.',
  'batch-vs-try':
    'a batch pays once per call what a single message pays each time (activity counts, the MODE check, the position ' +
    'compare-exchange, the wake words, the look for sleepers): callgrind counts 4,059 instructions per 64 B message for ' +
    'trySendMany(64) + tryReceiveMany(64, into) in one thread against 7,481 for trySend + tryReceive (1.84x). What stays ' +
    'is per message: a Uint8Array view per received message and one of the slot, the Envelope and Message objects and ' +
    'their garbage, each value\'s encode and length check, and per slot the header writes, the publish CAS and the ' +
    'release (docs/DECISIONS.md §24).',
  'port-vs-mailbox':
    'the Port and the Mailbox share the ring, and the Port adds its number’s look-up per send (see the 5 M/s target): on a ' +
    'busy 2-vCPU machine the two figures swing by more than that difference from run to run, so compare several runs.',
  'msg64-vs-postmessage':
    'postMessage of 64 B reaches 0.25–0.55 M/s here, so 10x needs 2.5–5.5 M/s from the Mailbox; see the 3 M/s target ' +
    'for what limits the Mailbox.',
  'msg64-vs-cp-json':
    "child_process.send 'json' of a 64-character string is fast (0.15–0.25 M/s: Node batches queued messages into one " +
    'writev), so 50x means 8–12 M/s, i.e. < 100 ns per message end to end: less than the Mailbox hot path costs on ' +
    'one core alone (see the 3 M/s target).',
  'msg64-vs-cp-advanced':
    "as for 'json': 50x of child_process.send 'advanced' needs ~5 M/s or more from the Mailbox; see the 3 M/s target.",
  'rtt-spin':
    'a C hop is one cache-line store seen by a spinning load (~200 ns); a Mailbox hop is trySend + tryReceive of ' +
    'JavaScript (~370 ns of CPU, see the 3 M/s target) plus the slot lines and counters moving between cores, and each ' +
    'empty poll of tryReceive (~50–100 ns: two atomic adds on the active-receivers word, mode, head and slot loads, the ' +
    'removed flag, the API wrapper) delays noticing the message. The timing itself costs 2 performance.now() per round ' +
    'trip (see Clock).',
  'rtt-park':
    'each blocking hop of receiveSync goes through the generator driver, takes the store lock to register as a ' +
    'waiting receiver and again to release the slot after waking, and makes its futex calls through N-API, where the ' +
    'C ping-pong does one FUTEX_WAIT and one FUTEX_WAKE; the kernel wake-up itself (~5–10 µs on this VM) is common ' +
    'to both. Under load both figures swing widely: compare runs on an idle machine.',
  'rtt-async-postmessage':
    'by default a receive polls up to 10 µs before it sleeps, and two processes answering each other then catch ' +
    "each other's answers while polling; if that figure misses, the machine was busy (each side needs a CPU). A " +
    'receive that always sleeps (spin: 0) sleeps on its thread’s doorbell, a datagram socket its event loop polls: ' +
    'one sendto wakes it, like a socket; on this VM a wake-up of a sleeping thread on the other vCPU costs 15–17 µs ' +
    '(a C ping-pong of datagrams through epoll: 35 µs per round trip across vCPUs, 20 µs on one), the JavaScript of ' +
    'a receive that sleeps (registering in a receiver slot under the lock, the promise, the generator) adds a few ' +
    'more per hop.',
  'rtt-async-unix': 'see the target against postMessage: the same wake-ups, the same reasons.',
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
};
