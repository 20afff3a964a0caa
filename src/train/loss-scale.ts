// The trainer's side of dynamic loss scaling (the device side: src/ir/loss-scale.ts). The device
// decides each step alone; the host reads the scale (one float, next to the loss it reads anyway)
// to count skipped steps, which are exactly the steps the scale went down, log them, and stop a run
// whose scale keeps collapsing before it trains on nothing but skipped steps.
import { LOSS_SCALE_NAMES } from '../ir/loss-scale.js';
import type { StepExecutor } from '../gpu/executor.js';
import type { Target } from '../kernels/op.js';
import type { Panel } from '../picture/chart.js';
import { CodedError } from '../spec/index.js';
import type { MetricsRecord } from './metrics.js';

/** Below this the gradients overflow however small the scale: 36 halvings from 2^16 in a row. */
export const MIN_LOSS_SCALE = 2 ** -20;

/** Why this adapter cannot train at `precision`, naming the fix; undefined when it can. */
export function precisionProblem(precision: 'f32' | 'f16', target: Target): string | undefined {
  if (precision !== 'f16' || target.hasF16) return undefined;
  return 'f16 needs a WebGPU adapter with the shader-f16 feature, and this one has none (`simclr-compile doctor` shows it): set `precision: f32` in the train block, or --set train.precision=f32';
}

/** f16 training needs shader-f16: said before anything is compiled. */
export function checkPrecision(precision: 'f32' | 'f16', target: Target): void {
  const problem = precisionProblem(precision, target);
  if (problem) throw new CodedError('E0701', 'train.precision', problem);
}

export class LossScaleWatch {
  private skippedSinceLog = 0;
  private skippedTotal = 0;

  private constructor(
    private readonly executor: StepExecutor,
    private scale: number,
  ) {}

  /** A watch over the executor's loss scale; undefined for an f32 step, which has none. */
  static async attach(executor: StepExecutor): Promise<LossScaleWatch | undefined> {
    if (!executor.graph.outputs[LOSS_SCALE_NAMES.scale]) return undefined;
    return new LossScaleWatch(executor, (await executor.read(LOSS_SCALE_NAMES.scale))[0]);
  }

  /** After step `step` (1-based): whether the device skipped it. */
  async afterStep(step: number): Promise<boolean> {
    const scale = (await this.executor.read(LOSS_SCALE_NAMES.scale))[0];
    const skipped = scale < this.scale;
    this.scale = scale;
    if (skipped) {
      this.skippedSinceLog++;
      this.skippedTotal++;
    }
    if (!(scale >= MIN_LOSS_SCALE)) {
      throw new CodedError(
        'E0702',
        'train.precision',
        `the loss scale fell to ${scale} at step ${step} (${this.skippedTotal} steps skipped): the gradients are inf or NaN at any scale, so the model itself diverges in f16. Lower the learning rate, or train with precision: f32`,
      );
    }
    return skipped;
  }

  /** Fields of a logged metrics line: the scale and the steps skipped since the last line. */
  logged(): MetricsRecord {
    const out = { loss_scale: this.scale, skipped_steps: this.skippedSinceLog };
    this.skippedSinceLog = 0;
    return out;
  }
}

/** curves.png's panel of the loss scale (log₂) and the skipped steps, for runs that logged them. */
export function lossScalePanel(records: MetricsRecord[]): Panel[] {
  const points = (key: string, f: (x: number) => number) =>
    records.filter((r) => typeof r[key] === 'number').map((r) => [Number(r.step) + 1, f(Number(r[key]))] as [number, number]);
  const scale = points('loss_scale', Math.log2);
  if (!scale.length) return [];
  let total = 0;
  const skipped = points('skipped_steps', (x) => (total += x));
  return [{ title: 'f16 loss scale (log2) and skipped steps (total)', xLabel: 'step', series: [{ name: 'log2 scale', points: scale }, { name: 'skipped', points: skipped }] }];
}
