// One run of `interproc demo`: its namespace, its narration, the processes its scenarios
// start and its temporary directory — and the cleanup that takes all of them away again,
// at the end of the run and when it is interrupted.
//
// Invariants: every process a scenario starts is in #processes until it has exited; every
// object of the run is in the run's own namespace (demo-<pid>, made for this run only), so
// removing everything in that namespace removes exactly what the run made.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHM_DIR } from '../../core/names.ts';
import { listObjects, removeObject } from '../../registry/index.ts';
import { narrationLines } from './narration.ts';
import { PeerProcess } from './peer-process.ts';
import type { Scenario, Stage } from './scenario.ts';

/** peer.ts as this module runs: the TypeScript source through tsx, or its compiled .js in dist/. */
const PEER_ENTRY = fileURLToPath(new URL(`./peer${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
/** How long stopping waits for killed processes to be reaped. */
const STOP_TIMEOUT_MS = 5_000;

export class DemoStage implements Stage {
  readonly namespace: string;
  readonly #processes = new Set<PeerProcess>();
  #scenario: Scenario | null = null;
  #directory: string | null = null;

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  /** Makes `scenario` the one whose peers startPeer starts. */
  begin(scenario: Scenario): void {
    this.#scenario = scenario;
  }

  say(text: string): void {
    process.stdout.write(narrationLines(`  [demo] `, text));
  }

  result(text: string): void {
    process.stdout.write(narrationLines(`  => `, text));
  }

  startPeer(label: string, args: string[], options: { extraFds?: number[] } = {}): PeerProcess {
    const scenario = this.#scenario;
    if (scenario === null) throw new Error('no scenario is running');
    // Node options of this process (tsx's loader when run from the sources) go to the peer.
    const child = spawn(process.execPath, [...process.execArgv, PEER_ENTRY, scenario.name, ...args], {
      stdio: ['pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])],
    });
    return this.#track(new PeerProcess(child, label, (line) => this.#narrate(label, child.pid, line), true));
  }

  startProgram(label: string, file: string, args: string[]): PeerProcess {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return this.#track(new PeerProcess(child, label, (line) => this.#narrate(label, child.pid, line), false));
  }

  temporaryDirectory(): string {
    this.#directory ??= mkdtempSync(join(tmpdir(), `interproc-${this.namespace}-`));
    return this.#directory;
  }

  /** Processes started and still running. */
  get running(): PeerProcess[] {
    return [...this.#processes].filter((peer) => peer.running);
  }

  /** Kills every process still running and waits (bounded) until they have exited. */
  async stopProcesses(): Promise<void> {
    const running = this.running;
    for (const peer of running) peer.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running.map((peer) => peer.exited)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Removes every object of the namespace (through each kind's own removal, then by file for
   * anything that refused: the port table while this process still owns a port) and the
   * temporary directory. Returns the files of the namespace still in /dev/shm (none, normally).
   */
  removeEverything(): string[] {
    for (const record of listObjects(this.namespace)) {
      try {
        removeObject(record);
      } catch {
        // Removed by file below.
      }
    }
    for (const file of this.#files()) rmSync(join(SHM_DIR, file), { force: true });
    if (this.#directory !== null) rmSync(this.#directory, { recursive: true, force: true });
    this.#directory = null;
    return this.#files();
  }

  #files(): string[] {
    const prefix = `interproc.${this.namespace}.`;
    return readdirSync(SHM_DIR).filter((file) => file.startsWith(prefix));
  }

  #track(peer: PeerProcess): PeerProcess {
    this.#processes.add(peer);
    void peer.exited.then(() => this.#processes.delete(peer));
    return peer;
  }

  #narrate(label: string, pid: number | undefined, line: string): void {
    process.stdout.write(narrationLines(`  [${label} ${pid ?? '?'}] `, line));
  }
}

