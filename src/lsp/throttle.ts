// When to re-check a document after a change. A change that follows a quiet spell is checked at once
// (on the next turn of the event loop, so edits that arrive together are checked together); during a
// burst of typing checks run at most once per `intervalMs`, on the newest text. So a lone edit shows
// its diagnostics as fast as the check itself, and fast typing never queues up stale checks.

/** How often, at most, a document being typed in is re-checked. */
export const CHECK_INTERVAL_MS = 100;

export class Throttle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lastRun = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly run: (key: string) => void,
  ) {}

  schedule(key: string): void {
    if (this.timers.has(key)) return;
    const wait = Math.max(0, (this.lastRun.get(key) ?? -Infinity) + this.intervalMs - performance.now());
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.lastRun.set(key, performance.now());
        this.run(key);
      }, wait),
    );
  }

  cancel(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.lastRun.delete(key);
  }
}
