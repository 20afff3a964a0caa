// compileAugment: the augment op's attributes → its WGSL programs (a params kernel drawing every
// image's record, then each view's passes) and what the float64 reference needs to replay them.
import type { Target } from '../op.js';
import { stageKernels } from './kernels.js';
import { drawViewRecord, paramLayout, paramsKernel, type CropFrame, type ParamLayout } from './params.js';
import type { DrawKey } from './rng.js';
import { assignBuffers, splitStages, type Stage } from './stages.js';
import { AugmentError, type AugOp, type Fusion, type SourceLayout } from './types.js';

export interface AugProgram {
  label: string;
  code: string;
  /** After the uniform (0) and the records (1): the buffers at bindings 2, 3. */
  bindings: ('source' | 'out' | 'tmp')[];
}

export interface ViewPlan {
  ops: AugOp[];
  stages: Stage[];
  programs: AugProgram[];
  /** Per op: the frame a crop draws its box in (other ops: 'source', unused). */
  frames: CropFrame[];
}

export interface AugmentPlan {
  source: SourceLayout;
  /** Output height and width (the spec's `size` for both). */
  height: number;
  width: number;
  fusion: Fusion;
  layout: ParamLayout;
  paramsCode: string;
  /** Two views for training; evaluation's resize and normalize is one. */
  views: ViewPlan[];
  workgroup: number;
}

export interface CompileOptions {
  fusion?: Fusion;
  /** Output height and width when not square `size` (the primitive tests use others). */
  height?: number;
  width?: number;
}

export function compileAugment(augment: { size: number; views: AugOp[][] }, source: SourceLayout, target: Target, options: CompileOptions = {}): AugmentPlan {
  const fusion = options.fusion ?? 'fused';
  const height = options.height ?? augment.size;
  const width = options.width ?? augment.size;
  if (augment.views.length < 1 || augment.views.length > 2) throw new AugmentError(`augment makes one or two views, not ${augment.views.length}`);
  augment.views.forEach((ops, v) => ops.forEach((op, i) => check(op, v, i, source, height, width)));
  const layout = paramLayout(augment.views);
  // Enough threads to cover a small image, few enough that a CPU rasteriser does not idle them.
  const workgroup = target.isSoftware ? 64 : Math.min(256, target.maxWorkgroupInvocations);
  const views = augment.views.map((ops, view): ViewPlan => {
    const stages = splitStages(ops, fusion);
    const buffers = assignBuffers(stages);
    const frames = ops.map((_, i): CropFrame => {
      const stage = stages.find((s) => s.read.kind === 'sample' && s.read.geo.includes(i));
      return stage?.read.kind === 'sample' && stage.read.from === 'image' ? 'view' : 'source';
    });
    const programs = stages.flatMap((stage, k) => {
      const kernels = stageKernels({ ops, view, layout, source, workgroup }, stage);
      const { src, dst } = buffers[k];
      const pair: AugProgram['bindings'] = [src, dst];
      // A blur's horizontal pass reads the current image into the other buffer; its vertical pass comes back.
      if (kernels.length === 2) return [{ ...kernels[0], bindings: [dst, src] }, { ...kernels[1], bindings: pair }];
      return kernels.map((kernel) => ({ ...kernel, bindings: kernel.bindings.length === 1 ? [dst] : pair }));
    });
    return { ops, stages, programs, frames };
  });
  const paramsCode = paramsKernel(augment.views, layout, views.map((v) => v.frames));
  return { source, height, width, fusion, layout, paramsCode, views, workgroup };
}

/** One image's record for one view drawn on the host: what the params kernel writes for it. */
export function drawRecord(plan: AugmentPlan, view: number, key: Omit<DrawKey, 'view'>): Float32Array {
  const frames = plan.views[view].frames;
  const frameOf = (i: number) => (frames[i] === 'view' ? { height: plan.height, width: plan.width } : plan.source);
  return drawViewRecord(plan.views[view].ops, plan.layout, view, { ...key, view }, frameOf);
}

function check(op: AugOp, view: number, index: number, source: SourceLayout, height: number, width: number): void {
  const where = `augment.views[${view}][${index}] (${op.op})`;
  const fail = (why: string) => {
    throw new AugmentError(`${where}: ${why}`);
  };
  if (op.op !== 'normalize' && !(op.p >= 0 && op.p <= 1)) fail(`p must lie in [0, 1], got ${op.p}`);
  if (op.op === 'blur') {
    if (!(Number.isInteger(op.kernel) && op.kernel % 2 === 1 && op.kernel >= 1)) fail(`kernel must be an odd positive integer, got ${op.kernel}`);
    if ((op.kernel - 1) / 2 >= Math.min(height, width)) fail(`kernel ${op.kernel} is too large for reflect padding of a ${height}×${width} view`);
    if (!(op.sigma[0] > 0 && op.sigma[1] >= op.sigma[0])) fail(`sigma must be a range 0 < lo ≤ hi, got [${op.sigma.join(', ')}]`);
  }
  if (op.op === 'random_resized_crop' && !(op.ratio[0] > 0 && op.ratio[1] > 0 && op.scale[0] > 0 && op.scale[1] >= op.scale[0])) fail('scale and ratio must be positive ranges');
  if (op.op === 'random_resized_crop' && Math.max(source.height, source.width) > 65536) fail('source images larger than 65536 pixels a side are not supported');
  if (op.op === 'normalize') {
    for (const [name, xs] of [['mean', op.mean], ['std', op.std]] as const) {
      if (xs.length !== 1 && xs.length !== source.channels) fail(`${name} has ${xs.length} values for ${source.channels}-channel images`);
    }
    if (op.std.some((s) => !(s > 0))) fail('std must be positive');
  }
}
