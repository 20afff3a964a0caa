// augment: source images [N, C, H, W] (uint8 packed four to a word, or f32) → views [V·N, C, S, S]
// (view 1's rows, then view 2's) and the per-image records their random parameters were drawn into.
// Forward only: nothing flows back into the data. The draws are a hash of (seed, 0-based step,
// image, view, op), read from the phase's per-step uniform, so the same seed gives the same views on
// the host reference and on the device. With `given`, the records come in as input 1 instead
// (fixed-parameter runs: the primitive tests).
import { compileAugment, drawRecord, type AugmentPlan } from './augment/plan.js';
import { paramLayout, PARAMS_WORKGROUP } from './augment/params.js';
import { planar, referenceView } from './augment/reference.js';
import type { AugOp, Fusion, SourceLayout } from './augment/types.js';
import { ceilDiv, defineOp, numel, SOFTWARE_TARGET, type Attrs, type Program, type Shape, type Target } from './op.js';

export interface AugmentAttrs extends Attrs {
  /** Side of the views; `height`/`width` when not square. */
  size: number;
  height?: number;
  width?: number;
  /** One op list per view: two for training, one for evaluation's resize and normalize. */
  views: AugOp[][];
  source: SourceLayout;
  fusion?: Fusion;
  given?: boolean;
  /** Index in the global batch of this batch's first image, which keys its draws (a data-parallel process's slice). */
  image_offset?: number;
}

export function augmentPlan(attrs: AugmentAttrs, target: Target): AugmentPlan {
  return compileAugment({ size: attrs.size, views: attrs.views }, attrs.source, target, { fusion: attrs.fusion, height: attrs.height, width: attrs.width });
}

/** One workgroup per image; more images than a dimension holds spill into the second. */
function imageGroups(n: number): [number, number] {
  return [Math.min(n, 65535), ceilDiv(n, 65535)];
}

defineOp<AugmentAttrs>({
  name: 'augment',
  shape: ([source, records], attrs) => {
    const { channels, height, width } = attrs.source;
    if (source.length !== 4 || source[1] !== channels || source[2] !== height || source[3] !== width) {
      throw new Error(`source images [${source}] are not [N, ${channels}, ${height}, ${width}]`);
    }
    const rows = attrs.views.length * source[0];
    const out: Shape = [rows, channels, attrs.height ?? attrs.size, attrs.width ?? attrs.size];
    const stride = paramLayout(attrs.views).stride;
    if (!attrs.given) return [out, [rows, stride]];
    if (!records || numel(records) !== rows * stride) throw new Error(`given records must hold ${rows}×${stride} floats`);
    return [out];
  },
  reference: (inputs, shapes, attrs, step) => {
    if (!attrs.given && !step) throw new Error('augment draws from the step and seed of the step scalars, and none were given');
    const plan = augmentPlan(attrs, SOFTWARE_TARGET);
    const [count, c, h, w] = shapes[0];
    const scale = attrs.source.dtype === 'uint8' ? 1 / 255 : 1;
    const stride = plan.layout.stride;
    const len = c * plan.height * plan.width;
    const rows = plan.views.length * count;
    const views = new Float64Array(rows * len);
    const records = new Float64Array(rows * stride);
    for (let v = 0; v < plan.views.length; v++) {
      for (let n = 0; n < count; n++) {
        const row = v * count + n;
        const img = planar(c, h, w, inputs[0].slice(n * c * h * w, (n + 1) * c * h * w).map((x) => x * scale));
        const record = attrs.given ? inputs[1].subarray(row * stride, (row + 1) * stride) : drawRecord(plan, v, { seed: step!.seed, step: step!.step - 1, image: n + (attrs.image_offset ?? 0) });
        records.set(record, row * stride);
        views.set(referenceView(plan, v, img, record).data, row * len);
      }
    }
    return attrs.given ? [views] : [views, records];
  },
  kernel: ([source], attrs, target) => {
    const plan = augmentPlan(attrs, target);
    const count = source[0];
    const views = plan.views.length;
    const { channels, height, width } = plan.source;
    const uniform = (view: number) => ({ values: [count, views, height, width, plan.height, plan.width, view, 0] });
    const records = attrs.given ? 'in:1' : 'out:1';
    const named = { source: 'in:0', out: 'out:0', tmp: 'tmp:0' };
    const programs: Program[] = [];
    if (!attrs.given) {
      const params = { values: [count, views, height, width, plan.height, plan.width, 0, attrs.image_offset ?? 0] };
      programs.push({ label: 'augment_params', code: plan.paramsCode, groups: imageGroups(ceilDiv(views * count, PARAMS_WORKGROUP)), params, bindings: ['step', 'out:1'] });
    }
    plan.views.forEach((view, v) => {
      for (const p of view.programs) programs.push({ label: p.label, code: p.code, groups: imageGroups(count), params: uniform(v), bindings: [records, ...p.bindings.map((b) => named[b])] });
    });
    // The scratch image ping-pongs with the views, in their layout.
    const usesScratch = programs.some((p) => p.bindings.includes('tmp:0'));
    return { programs, scratchBytes: usesScratch ? [views * count * channels * plan.height * plan.width * 4] : [] };
  },
});
