// The peak learning rate from the batch size, as google-research/simclr scales it: graph building
// (the optimizer's update nodes) and the trainer's schedule both start from it.
import type { OptimizerSpec } from '../spec/types.js';

export type LrScaling = OptimizerSpec['lr_scaling'];

/** linear: base·bs/256 (base 0.3 in the paper); sqrt: base·√bs (base 0.075); none: base as given. */
export function scaledLr(base: number, scaling: LrScaling, batchSize: number): number {
  if (scaling === 'linear') return (base * batchSize) / 256;
  if (scaling === 'sqrt') return base * Math.sqrt(batchSize);
  return base;
}
