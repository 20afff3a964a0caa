// A step's planned buffers against the adapter's limits, before anything is created: a buffer too
// large for the device would otherwise surface as pages of Dawn validation text mid-run. The
// error names the spec field to change and the largest value of it that fits.
import { CodedError } from '../spec/index.js';
import { compile, type TrainingSpec } from './compile.js';
import type { KernelGraph } from './kernel-graph.js';
import type { Target } from '../kernels/op.js';

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** The largest buffer of a step and the limit it passes or breaks: the smaller of binding and buffer size. */
function largest(kernels: KernelGraph, limits: BufferLimits) {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const which = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const bytes = Math.max(...kernels.buffers.filter((b) => b.kind !== 'step').map((b) => b.bytes));
  return { bytes, limit, which, fits: bytes <= limit };
}

/** The largest n in [lo, hi] with fits(n), where fits holds for lo when anything does (planned bytes grow with n). */
function largestFitting(lo: number, hi: number, fits: (n: number) => boolean): number | undefined {
  if (!fits(lo)) return undefined;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;

/**
 * Throws E0404 when a buffer of the step exceeds the adapter's limits, naming train.batch_size and
 * the largest batch that fits; when not even one image per view fits, augment.size (the views'
 * side) and the largest side that fits at batch 1.
 */
export function checkStepFits(spec: TrainingSpec, kernels: KernelGraph, limits: BufferLimits, target: Target): void {
  const now = largest(kernels, limits);
  if (now.fits) return;
  const batch = spec.train.batch_size;
  // A view side too small for the encoder's strides does not compile: it fits nothing either.
  const at = (s: TrainingSpec, b: number) => {
    try {
      return largest(compile(s, { target, batch: b }).kernels, limits).fits;
    } catch {
      return false;
    }
  };
  const need = `the step at batch ${batch} needs a buffer of ${mib(now.bytes)} but the adapter allows ${mib(now.limit)} (${now.which})`;
  const fitting = largestFitting(1, batch - 1, (b) => at(spec, b));
  if (fitting !== undefined) throw new CodedError('E0404', 'train.batch_size', `${need}; the largest batch that fits is ${fitting}`);
  const size = spec.augment.size;
  const sized = (s: number): TrainingSpec => ({ ...spec, augment: { ...spec.augment, size: s } as TrainingSpec['augment'] });
  const side = largestFitting(Math.min(8, size - 1), size - 1, (s) => at(sized(s), 1));
  const hint = side === undefined ? 'no view size fits: the network itself is too large for this adapter' : `the largest view side that fits at batch 1 is ${side} (set augment.size, or data.image_size)`;
  throw new CodedError('E0404', 'augment.size', `${need}, even at batch 1 with ${size}×${size} views; ${hint}`);
}
