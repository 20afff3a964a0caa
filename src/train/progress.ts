// Training progress for a person or a program: a live bar on a terminal, plain lines every
// log_every steps when stderr is a file or pipe (CI logs), or one JSON object per logged step.

/** The part of a stream progress writes to; `isTTY`/`columns` are set on terminals. */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  totalSteps: number;
  stepsPerEpoch: number;
  batchSize: number;
  logEvery: number;
  /** `--json`: JSON lines on `jsonOut` instead of text on `out`. */
  json?: boolean;
  /** Where text goes (default stderr); a TTY gets the live bar. */
  out?: Out;
  jsonOut?: Out;
  /** First step of this session (resuming); images/s and ETA count from here. */
  startStep?: number;
  /** Milliseconds; a clock for tests. */
  now?: () => number;
}

export interface StepReport {
  step: number;
  loss: number;
  lr: number;
}

/** What one logged step says, in the shape `--json` prints it. */
export interface ProgressLine {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  images_per_s: number;
  eta_s: number;
}

/** A terminal bar redraws at most this often. */
const REDRAW_MS = 100;
/**
 * Speed is measured over the last this-many steps, so the first steps' kernel compilation stops
 * weighing on images/s and the ETA once training runs at its steady pace.
 */
const WINDOW = 20;

export class Progress {
  private readonly out: Out;
  private readonly jsonOut: Out;
  private readonly now: () => number;
  private readonly started: number;
  private readonly startStep: number;
  private lastDraw = -Infinity;
  private barShown = false;
  private readonly recent: { step: number; time: number }[] = [];

  constructor(private readonly opts: ProgressOptions) {
    this.out = opts.out ?? process.stderr;
    this.jsonOut = opts.jsonOut ?? process.stdout;
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
    this.startStep = opts.startStep ?? 0;
  }

  private get live(): boolean {
    return !this.opts.json && this.out.isTTY === true;
  }

  /** Call after every step; the report is `step`'s (0-based), taken after its update. */
  update(report: StepReport): ProgressLine | undefined {
    const line = this.measure(report);
    const logged = (report.step + 1) % this.opts.logEvery === 0 || report.step + 1 === this.opts.totalSteps;
    if (this.live) {
      const t = this.now();
      if (logged || t - this.lastDraw >= REDRAW_MS) {
        this.lastDraw = t;
        this.barShown = true;
        this.out.write(`\r${bar(line, this.opts, this.out.columns ?? 100)}\x1b[K`);
      }
    } else if (logged) {
      if (this.opts.json) this.jsonOut.write(`${JSON.stringify(line)}\n`);
      else this.out.write(`${plain(line, this.opts)}\n`);
    }
    return logged ? line : undefined;
  }

  /** A message (evaluation results, a checkpoint) that must not be overwritten by the bar. */
  message(text: string): void {
    this.endBar();
    this.out.write(`${text}\n`);
  }

  /** Leaves the bar's last state on its own line. */
  finish(): void {
    this.endBar();
  }

  private endBar(): void {
    if (this.barShown) this.out.write('\n');
    this.barShown = false;
  }

  private measure({ step, loss, lr }: StepReport): ProgressLine {
    const time = this.now();
    this.recent.push({ step, time });
    if (this.recent.length > WINDOW) this.recent.shift();
    const oldest = this.recent[0];
    const [steps, ms] = this.recent.length > 1 ? [step - oldest.step, time - oldest.time] : [step + 1 - this.startStep, time - this.started];
    const stepsPerSecond = steps / Math.max(1e-6, ms / 1000);
    return {
      step,
      epoch: Math.floor(step / this.opts.stepsPerEpoch),
      loss,
      lr,
      images_per_s: stepsPerSecond * this.opts.batchSize,
      eta_s: (this.opts.totalSteps - step - 1) / stepsPerSecond,
    };
  }
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function fields(line: ProgressLine, opts: ProgressOptions): string[] {
  const epochs = Math.ceil(opts.totalSteps / opts.stepsPerEpoch);
  return [
    `epoch ${line.epoch + 1}/${epochs}`,
    `step ${line.step + 1}/${opts.totalSteps}`,
    `loss ${line.loss.toFixed(4)}`,
    `lr ${line.lr.toPrecision(3)}`,
    `${line.images_per_s.toFixed(1)} img/s`,
    `ETA ${duration(line.eta_s)}`,
  ];
}

function plain(line: ProgressLine, opts: ProgressOptions): string {
  return fields(line, opts).join('  ');
}

function bar(line: ProgressLine, opts: ProgressOptions, columns: number): string {
  const [epoch, step, ...rest] = fields(line, opts);
  const text = `${epoch} ${step} ${rest.join(' ')}`;
  const width = Math.max(10, Math.min(40, columns - text.length - 4));
  const filled = Math.round((width * (line.step + 1)) / opts.totalSteps);
  return `${epoch} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step} ${rest.join(' ')}`.slice(0, columns - 1);
}
