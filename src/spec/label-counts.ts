// How many images SimCLR v2's validation split and labelled subset take: shared by `check` (which
// sizes them for sources of known size) and the run (src/data/labels.ts, which draws them).

/** The validation split never exceeds this many images: enough for a stable accuracy, cheap to evaluate. */
export const MAX_VAL = 5000;

/** Images the validation split takes from `count` training images. */
export function valCount(count: number, fraction: number): number {
  return Math.min(MAX_VAL, Math.round(fraction * count));
}

/** Labelled images per class for a fraction of `count` images over `classes` classes. */
export function perClass(count: number, fraction: number, classes: number): number {
  return Math.floor((fraction * count) / classes);
}
