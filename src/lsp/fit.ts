// Whether each open spec's training step fits the adapter whose limits the last run recorded
// (src/gpu/known-target.ts), judged on a worker thread after the front end's diagnostics are out:
// a step that cannot fit shows as E0601/E0602 at its field a moment later. A document is checked
// once it has been quiet for QUIET_MS: compiling while someone types would take a core from the
// server's own diagnostics (2.5× slower to arrive on two loaded cores). One check runs at a time;
// while it runs only the newest text of each document waits.
import { Worker } from 'node:worker_threads';
import { knownTarget } from '../gpu/known-target.js';
import type { Diagnostic } from '../spec/index.js';
import type { FitReply, FitRequest } from './fit-worker.js';

type Done = (diagnostics: Diagnostic[]) => void;

export const QUIET_MS = 1000;

export class FitChecks {
  private worker: Worker | undefined;
  private running: { id: number; done: Done } | undefined;
  private readonly waiting = new Map<string, { request: Omit<FitRequest, 'id'>; done: Done }>();
  private readonly quiet = new Map<string, NodeJS.Timeout>();
  private nextId = 1;

  /** Queues a check of `uri`'s text once it is quiet; `done` gets its diagnostics unless a newer text replaced it first. */
  request(uri: string, request: Omit<FitRequest, 'id' | 'known'>, done: Done): void {
    clearTimeout(this.quiet.get(uri));
    this.waiting.delete(uri);
    const timer = setTimeout(() => {
      this.quiet.delete(uri);
      // Read when the check is due, so a run that records an adapter meanwhile counts.
      const known = knownTarget();
      if (!known) return;
      this.waiting.set(uri, { request: { ...request, known }, done });
      this.next();
    }, QUIET_MS);
    timer.unref();
    this.quiet.set(uri, timer);
  }

  dispose(): void {
    for (const timer of this.quiet.values()) clearTimeout(timer);
    this.quiet.clear();
    this.waiting.clear();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private next(): void {
    if (this.running) return;
    const first = this.waiting.entries().next();
    if (first.done) return;
    const [uri, { request, done }] = first.value;
    this.waiting.delete(uri);
    const id = this.nextId++;
    this.running = { id, done };
    this.start().postMessage({ id, ...request } satisfies FitRequest);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./fit-worker.js', import.meta.url));
    // The editor's exit request ends the server; a check in flight must not hold it open.
    worker.unref();
    worker.on('message', ({ id, diagnostics }: FitReply) => {
      const running = this.running;
      if (running?.id !== id) return;
      this.running = undefined;
      running.done(diagnostics);
      this.next();
    });
    worker.on('error', () => {
      // The thread died (out of memory on a huge step): the next request starts a new one.
      this.worker = undefined;
      this.running = undefined;
      this.next();
    });
    this.worker = worker;
    return worker;
  }
}
