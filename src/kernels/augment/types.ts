// The resolved spec's `augment` section, as this stage reads it (see the spec's schema for defaults).
export type AugOp =
  | { op: 'random_resized_crop'; p: number; scale: [number, number]; ratio: [number, number] }
  | { op: 'flip'; p: number }
  | { op: 'rotate'; p: number; degrees: number; padding: 'zeros' | 'reflect' }
  | { op: 'color_jitter'; p: number; brightness: number; contrast: number; saturation: number; hue: number }
  | { op: 'grayscale'; p: number }
  | { op: 'blur'; p: number; kernel: number; sigma: [number, number] }
  | { op: 'normalize'; mean: number[]; std: number[] };

export type AugOpName = AugOp['op'];

export interface AugmentSpec {
  size: number;
  views: [AugOp[], AugOp[]];
}

/** The source batch as it sits on the device: channel-first images, one after another. */
export interface SourceLayout {
  channels: 1 | 3;
  height: number;
  width: number;
  /** uint8 images are packed four bytes a word and read as value/255. */
  dtype: 'uint8' | 'f32';
}

export type Fusion = 'fused' | 'per-op';

export const GEOMETRIC: ReadonlySet<AugOpName> = new Set(['random_resized_crop', 'flip', 'rotate']);
export const POINTWISE: ReadonlySet<AugOpName> = new Set(['color_jitter', 'grayscale', 'normalize']);

/**
 * An augmentation op the views cannot run. Its message starts with the op's place in the resolved
 * spec (`augment.views[0][2] (blur): …`), which is read back as the path a diagnostic points at.
 */
export class AugmentError extends Error {
  readonly code = 'E0402';
  readonly specPath?: (string | number)[];
  constructor(message: string) {
    super(message);
    this.name = 'AugmentError';
    const at = /^augment\.views\[(\d+)\]\[(\d+)\]/.exec(message);
    if (at) this.specPath = ['augment', 'views', Number(at[1]), Number(at[2])];
  }
}
