// The augmentation stage's host side: the spec's `augment` section as the augment op's attributes,
// its printing, previews and runs of the op alone. The op itself (WGSL, draws, float64 reference)
// lives in src/kernels/augment.ts.
export { augmentPlan, type AugmentAttrs } from '../kernels/augment.js';
export { compileAugment, drawRecord, type AugmentPlan, type CompileOptions } from '../kernels/augment/plan.js';
export { paramLayout, SLOTS, type CropFrame, type ParamLayout } from '../kernels/augment/params.js';
export { referenceView, type Planar } from '../kernels/augment/reference.js';
export { AugmentError, type AugOp, type AugmentSpec, type Fusion, type SourceLayout } from '../kernels/augment/types.js';
export { formatPipelines } from './print.js';
export { defaultView } from './defaults.js';
export { blurKernel } from '../spec/defaults.js';
export { renderPreview, withoutNormalize, type Preview, type SourceImages } from './preview.js';
export { augmentExecutor, augmentPhase, drawScalars, runAugment, type Augmented, type DrawAt } from './run.js';
