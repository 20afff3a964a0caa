// Gradients through the all-gather of embeddings (global negatives).
import type { Collectives } from './collectives.js';

/**
 * The backward of `y = allGather(x)`. Every process holds a copy of y and computes its own loss from
 * it, so the total loss depends on x_r through every process's copy: ∂L/∂x_r is the sum over
 * processes p of the r-th block of ∂L_p/∂y. That is a reduce-scatter (sum) of the gathered gradient.
 * Taking only this process's own copy (a plain slice of `gathered`) drops the other processes'
 * contributions: the mistake this function exists to avoid.
 */
export function allGatherBackward(collectives: Collectives, gathered: Float32Array): Float32Array {
  return collectives.reduceScatterSum(gathered);
}
