// One training step on the device: the batch's source images uploaded once, both views augmented
// straight into the step's `views` buffer, then forward, backward and update — one submission, and
// only the loss read back.
import { compileAugment, recordAugment, type AugmentPlan } from '../augment/index.js';
import type { AugmentSpec } from '../augment/types.js';
import type { Dataset } from '../data/index.js';
import type { StepExecutor } from '../gpu/executor.js';
import type { Runtime } from '../gpu/runtime.js';

export class DeviceStep {
  private readonly plan: AugmentPlan;
  private readonly source: GPUBuffer;
  private readonly views: [GPUBuffer, GPUBuffer];
  private readonly viewBytes: number;

  constructor(
    private readonly rt: Runtime,
    private readonly executor: StepExecutor,
    augment: AugmentSpec,
    data: Pick<Dataset, 'channels' | 'height' | 'width'>,
    private readonly batch: number,
    private readonly seed: number,
  ) {
    const channels = data.channels as 1 | 3;
    this.plan = compileAugment(augment, { channels, height: data.height, width: data.width, dtype: 'uint8' }, rt.target);
    this.source = rt.buffer(batch * channels * data.height * data.width, 'source images');
    this.viewBytes = batch * channels * augment.size * augment.size * 4;
    this.views = [rt.buffer(this.viewBytes, 'view 1'), rt.buffer(this.viewBytes, 'view 2')];
  }

  /** Runs step `step` on `images` (the batch, uint8 channel-first) and returns its loss. */
  async run(images: Uint8Array, step: number): Promise<number> {
    const rt = this.rt;
    rt.write(this.source, images);
    await recordAugment(rt, this.plan, { source: this.source, count: this.batch, seed: this.seed, step }, this.views[0], this.views[1]);
    // The model's input stacks view 1's rows above view 2's (z = cat(view1, view2)).
    const target = this.executor.buffer('views');
    rt.copy(this.views[0], target, this.viewBytes, 0, 0);
    rt.copy(this.views[1], target, this.viewBytes, 0, this.viewBytes);
    this.executor.record();
    return (await this.executor.read('loss'))[0];
  }

  destroy(): void {
    this.source.destroy();
    for (const v of this.views) v.destroy();
  }
}
