import * as assert from 'uvu/assert';
import { Rng } from '../../src/data/rng.js';

/** Max element-wise error relative to the reference's largest magnitude (scale-aware, robust near 0). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.is(actual.length, expected.length, 'length');
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    if (!Number.isFinite(a)) return Infinity;
    worst = Math.max(worst, Math.abs(a - expected[i]) / Math.max(scale, 1e-30));
  }
  return worst;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const err = relError(actual, expected);
  assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}

/** Deterministic uniform numbers in [lo, hi), so failures reproduce. */
export function randoms(count: number, seed: number, lo = -1, hi = 1): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rng.next();
  return out;
}
