// Splits a view's op list into stages, each one GPU pass (blur: a separable pair). Fused: geometric
// ops compose into one sampling transform, colour ops ride along in registers, and only blur (which
// needs neighbours) and a geometric op after a colour op start a new pass. Per-op: one pass each.
import { GEOMETRIC, POINTWISE, type AugOp, type Fusion } from './types.js';

export type StageRead =
  /** Bilinear sampling through the composed geometric ops, from the source batch or the current image. */
  | { kind: 'sample'; from: 'source' | 'image'; geo: number[] }
  /** The current image, pixel by pixel (in place). */
  | { kind: 'load' }
  /** The gaussian blur of the current image, when it fires for that image. */
  | { kind: 'blur'; op: number };

export interface Stage {
  read: StageRead;
  /** Colour ops (color_jitter, grayscale, normalize) applied after the read, in order. */
  pointwise: number[];
}

export function splitStages(ops: AugOp[], fusion: Fusion): Stage[] {
  const stages: Stage[] = [];
  const last = () => stages[stages.length - 1];
  ops.forEach((op, i) => {
    const cur = last();
    if (GEOMETRIC.has(op.op)) {
      const joins = fusion === 'fused' && cur?.read.kind === 'sample' && cur.pointwise.length === 0;
      if (joins) (cur.read as { geo: number[] }).geo.push(i);
      else stages.push({ read: { kind: 'sample', from: stages.length ? 'image' : 'source', geo: [i] }, pointwise: [] });
      return;
    }
    // Whatever comes first must bring the source to the output size.
    if (!cur) stages.push({ read: { kind: 'sample', from: 'source', geo: [] }, pointwise: [] });
    if (op.op === 'blur') {
      stages.push({ read: { kind: 'blur', op: i }, pointwise: [] });
    } else if (POINTWISE.has(op.op)) {
      const host = last();
      const fresh = fusion === 'per-op' && (host.read.kind !== 'sample' || host.read.geo.length > 0 || host.pointwise.length > 0);
      if (fresh) stages.push({ read: { kind: 'load' }, pointwise: [i] });
      else host.pointwise.push(i);
    }
  });
  if (!stages.length) stages.push({ read: { kind: 'sample', from: 'source', geo: [] }, pointwise: [] });
  return stages;
}

/**
 * Which buffer each stage reads and writes. Sampling from an image needs a second buffer, so the
 * view and a scratch image ping-pong, starting where the last write lands in the view.
 */
export function assignBuffers(stages: Stage[]): { src: 'source' | 'out' | 'tmp'; dst: 'out' | 'tmp' }[] {
  const hops = stages.filter((s) => s.read.kind === 'sample' && s.read.from === 'image').length;
  let cur: 'out' | 'tmp' = hops % 2 === 0 ? 'out' : 'tmp';
  const other = (b: 'out' | 'tmp') => (b === 'out' ? 'tmp' : 'out');
  return stages.map((s, k) => {
    if (k === 0) return { src: 'source', dst: cur };
    if (s.read.kind === 'sample') {
      const src = cur;
      cur = other(cur);
      return { src, dst: cur };
    }
    if (s.read.kind === 'blur') return { src: other(cur), dst: cur };
    return { src: cur, dst: cur };
  });
}
