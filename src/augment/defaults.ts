// The self_supervised library's default two-view pipeline (DESIGN.md), for benches and previews of
// sources that come without a spec.
import type { AugOp } from './types.js';

/** Odd, about a tenth of the image, at least 3 (SimCLR's int(0.1·size) made odd). */
export function blurKernel(size: number): number {
  const k = Math.floor(0.1 * size);
  return Math.max(3, k % 2 === 0 ? k + 1 : k);
}

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
