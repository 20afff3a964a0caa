// The self_supervised library's default two-view pipeline (DESIGN.md), for benches and previews of
// sources that come without a spec.
import type { AugOp } from '../kernels/augment/types.js';
import { blurKernel } from '../spec/defaults.js';

export function defaultView(size: number, mean: number[], std: number[], strength = 0.6): AugOp[] {
  return [
    { op: 'random_resized_crop', p: 1, scale: [0.2, 1], ratio: [3 / 4, 4 / 3] },
    { op: 'flip', p: 0.5 },
    { op: 'rotate', p: 0.3, degrees: 30, padding: 'zeros' },
    { op: 'color_jitter', p: 0.3, brightness: 0.8 * strength, contrast: 0.8 * strength, saturation: 0.8 * strength, hue: 0.2 * strength },
    { op: 'grayscale', p: 0.3 },
    { op: 'blur', p: 0.3, kernel: blurKernel(size), sigma: [0.1, 2] },
    { op: 'normalize', mean, std },
  ];
}
