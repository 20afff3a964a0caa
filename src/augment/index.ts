// The augmentation stage: the spec's `augment` section → GPU programs that make two views a step.
export { compileAugment, drawRecord, paramsBytes, recordAugment, recordViews, uploadSource, type AugmentPlan, type AugmentInputs, type CompileOptions } from './plan.js';
export { paramLayout, SLOTS, type CropFrame, type ParamLayout } from './params.js';
export { referenceView, type Planar } from './reference.js';
export { formatPipelines } from './print.js';
export { blurKernel, defaultView } from './defaults.js';
export { renderPreview, withoutNormalize, type Preview, type SourceImages } from './preview.js';
export { AugmentError, type AugOp, type AugmentSpec, type Fusion, type SourceLayout } from './types.js';
