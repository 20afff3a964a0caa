// Merged spec object → resolved spec: defaults that depend on other fields first (in_channels from
// data.channels, view size from the images, conv padding from its kernel, blur kernel from the view
// size, jitter from `strength`, normalize stats from the data set, lr from the optimizer), then every
// remaining `default` of the schema, walked as data so the schema stays the one list of defaults.
import { schema } from './schema.js';
import type { AugOp, Layer, ResolvedSpec } from './types.js';

type Obj = Record<string, any>;

/** Per-channel statistics of the known data sets. */
export const DATASET_STATS: Record<string, { mean: number[]; std: number[] }> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  unit: { mean: [0.5], std: [0.5] },
};
const STATS_OF_SOURCE: Record<string, string> = { mnist: 'mnist', 'fashion-mnist': 'fashion-mnist', 'image-folder': 'imagenet' };

/** Fills `spec` in place (give it a fresh object) and returns it in schema order. */
export function resolveDefaults(spec: Obj): ResolvedSpec {
  for (const key of schema['x-resolved'] as string[]) spec[key] ??= {};
  const data = spec.data;
  data.source ??= schemaDefault(['data', 'source']);
  data.channels ??= data.source === 'image-folder' ? 3 : schemaDefault(['data', 'channels']);
  data.image_size ??= schemaDefault(['data', 'image_size']);
  spec.encoder.in_channels ??= data.channels;
  spec.augment.size ??= data.image_size;
  resolveEncoder(spec.encoder);
  resolveViews(spec.augment, data);
  resolveOptimizer(spec.optimizer);
  // `epochs` has no plain default: one would be filled even beside `steps`.
  if (spec.train.epochs === undefined && spec.train.steps === undefined) spec.train.epochs = schema.properties.train.properties.epochs['x-default'];
  spec.eval.knn ??= {};
  spec.eval.linear ??= {};
  return fill(spec, schema) as ResolvedSpec;
}

function resolveEncoder(encoder: Obj): void {
  const width = typeof encoder.width === 'number' ? encoder.width : 1;
  const scale = (layers: Obj[] | undefined): Layer[] =>
    (layers ?? []).map((layer) => {
      const out = { ...layer };
      if ((out.type === 'conv' || out.type === 'linear') && typeof out.out === 'number') out.out = Math.max(1, Math.round(out.out * width));
      if (out.type === 'conv') out.padding ??= Math.floor((out.kernel ?? layerDefault('conv', 'kernel')) / 2);
      if (out.type === 'residual') {
        out.body = scale(out.body);
        out.shortcut = scale(out.shortcut);
      }
      return out as Layer;
    });
  encoder.layers = scale(encoder.layers);
  encoder.width = 1;
}

function resolveViews(augment: Obj, data: Obj): void {
  const ops: Obj[][] = Array.isArray(augment.views) ? augment.views : [augment.ops ?? [], augment.ops ?? []];
  delete augment.ops;
  augment.views = ops.map((view) => (Array.isArray(view) ? view.map((op) => resolveOp({ ...op }, augment.size, data)) : view));
}

/** The blur's default kernel: SimCLR's int(0.1·size) made odd (upwards), at least 3. */
export function blurKernel(size: number): number {
  const k = Math.floor(0.1 * size);
  return Math.max(3, k % 2 === 0 ? k + 1 : k);
}

function resolveOp(op: Obj, size: number, data: Obj): AugOp {
  if (op.op === 'color_jitter' && typeof op.strength === 'number') {
    // Rounded so 0.8 × 0.7 reads 0.56, not 0.5599999999999999.
    const times = (f: number) => Math.round(f * op.strength * 1e12) / 1e12;
    for (const k of ['brightness', 'contrast', 'saturation']) op[k] ??= times(0.8);
    op.hue ??= times(0.2);
  }
  delete op.strength;
  if (op.op === 'blur' && op.kernel === undefined) op.kernel = blurKernel(size);
  if (op.op === 'normalize') {
    const named = op.stats && op.stats !== 'dataset' ? op.stats : (STATS_OF_SOURCE[data.source] ?? 'unit');
    const stats = DATASET_STATS[named];
    op.mean ??= perChannel(stats.mean, data.channels);
    op.std ??= perChannel(stats.std, data.channels);
    delete op.stats;
  }
  return op as AugOp;
}

/** Statistics brought to the channel count: one value repeated, or three averaged to grey. */
function perChannel(values: number[], channels: number): number[] {
  if (values.length === channels) return [...values];
  if (values.length === 1) return Array(channels).fill(values[0]);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Array(channels).fill(Math.round(mean * 1e4) / 1e4);
}

function resolveOptimizer(opt: Obj): void {
  if (opt.type === 'adamw') {
    opt.lr_scaling ??= 'none';
    opt.lr ??= 1e-3;
  }
  if (opt.lr_scaling === 'sqrt') opt.lr ??= 0.075;
}

/** The schema's default of a top-level block's field, for defaults that others depend on. */
function schemaDefault(path: [string, string]): any {
  return schema.properties[path[0]].properties[path[1]].default;
}

function layerDefault(type: string, field: string): any {
  const branch = (schema.definitions.layer.oneOf as Obj[]).find((b) => b.properties.type.const === type)!;
  return branch.properties[field].default;
}

const deref = (s: Obj): Obj => (typeof s.$ref === 'string' ? schema.definitions[s.$ref.split('/').pop()!] : s);

/** Fills every absent field that has a schema default, following the value's own branch of unions. */
function fill(value: unknown, s: Obj): unknown {
  s = deref(s);
  if (Array.isArray(value)) return s.items && !Array.isArray(s.items) ? value.map((v) => fill(v, s.items)) : value;
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Obj;
  if (s.discriminator) {
    const tag = s.discriminator.propertyName;
    const branch = (s.oneOf as Obj[]).find((b) => b.properties?.[tag]?.const === obj[tag]);
    return branch ? fill(obj, branch) : obj;
  }
  if (s.anyOf) {
    const branch = (s.anyOf as Obj[]).map(deref).find((b) => b.type === 'object');
    return branch ? fill(obj, branch) : obj;
  }
  // Rebuilt in schema order, so every resolved spec lists its fields the same way.
  const skip = new Set(['use', 'extends', ...((s['x-input-only'] as string[]) ?? [])]);
  const out: Obj = {};
  for (const [key, sub] of Object.entries<Obj>(s.properties ?? {})) {
    if (skip.has(key)) continue;
    const def = sub.default ?? deref(sub).default;
    const v = obj[key] ?? (def !== undefined ? structuredClone(def) : undefined);
    if (v !== undefined) out[key] = fill(v, sub);
  }
  for (const key of Object.keys(obj)) if (!(key in out) && !skip.has(key)) out[key] = obj[key];
  return out;
}
