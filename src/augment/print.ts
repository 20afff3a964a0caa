// The resolved pipelines as a person reads them: each view's ops with their parameters, then the
// passes the compiler made of them.
import type { AugmentPlan } from '../kernels/augment/plan.js';
import type { AugOp } from '../kernels/augment/types.js';

const num = (x: number) => String(Number(x.toPrecision(6)));
const value = (v: unknown): string => (Array.isArray(v) ? `[${v.map((x) => num(x as number)).join(', ')}]` : typeof v === 'number' ? num(v) : String(v));

export function formatOp(op: AugOp): string {
  const fields = Object.entries(op)
    .filter(([k]) => k !== 'op')
    .map(([k, v]) => `${k}=${value(v)}`);
  return `${op.op}(${fields.join(', ')})`;
}

export function formatPipelines(plan: AugmentPlan): string {
  const { source } = plan;
  const lines = [`source ${source.channels}×${source.height}×${source.width} ${source.dtype} → views ${source.channels}×${plan.height}×${plan.width} f32`];
  plan.views.forEach((view, v) => {
    lines.push(`view ${v + 1}:`);
    view.ops.forEach((op, i) => {
      const skipped = source.channels === 1 && (op.op === 'grayscale' || (op.op === 'color_jitter' && (op.saturation > 0 || op.hue > 0)));
      const note = !skipped ? '' : op.op === 'grayscale' ? '   (no-op on 1-channel images)' : '   (saturation and hue skipped on 1-channel images)';
      lines.push(`  ${i + 1}. ${formatOp(op)}${note}`);
    });
    lines.push(`  ${plan.fusion} passes (${view.programs.length}): ${view.programs.map((p) => p.label).join(' → ')}`);
  });
  return lines.join('\n');
}
