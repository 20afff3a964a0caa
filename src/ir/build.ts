// Model builder: the resolved spec's encoder layers, pooling, projector and loss as graph nodes.
// Every node carries the spec path of the layer it came from, so shape errors point at the spec.
import { Graph, ShapeError, fmtShape, type ParamKind, type Tensor } from './graph.js';
import type { EncoderLayer, ModelSpec } from './model-spec.js';

export interface Model {
  graph: Graph;
  /** The 2N stacked views: view 1 rows first, then view 2. */
  views: Tensor;
  z: Tensor;
  loss: Tensor;
  params: Tensor[];
}

/** Builds the forward graph for `batch` images per view (BatchNorm sees both views: 2·batch rows). */
export function buildModel(spec: ModelSpec, batch: number): Model {
  const g = new Graph();
  const size = spec.augment?.size ?? spec.data?.image_size ?? 28;
  const views = g.leaf('input', [2 * batch, spec.encoder.in_channels, size, size], 'data', { name: 'views' });
  const b = new Builder(g);
  let x = b.layers(views, spec.encoder.layers, 'encoder.layers');
  x = b.pool(x, spec.encoder.pool, 'encoder.pool');
  const z = b.projector(x, spec.projector);
  // NT-Xent over the 2N rows of z (the fused kernel: normalise, similarities and softmax in one pass).
  const [loss] = g.add('infonce', [z], { temperature: spec.loss.temperature }, 'loss');
  g.outputs.set('z', z.id);
  g.outputs.set('loss', loss.id);
  return { graph: g, views, z, loss, params: b.params };
}

/**
 * The encoder alone in inference mode (BatchNorm from its running statistics), its pooled output
 * named 'features': what kNN and the linear probe read. Param and state names match the training graph.
 */
export function buildFeatures(spec: ModelSpec, batch: number): Graph {
  const g = new Graph();
  const size = spec.augment?.size ?? spec.data?.image_size ?? 28;
  const images = g.leaf('input', [batch, spec.encoder.in_channels, size, size], 'data', { name: 'images' });
  const b = new Builder(g, 'eval');
  const x = b.pool(b.layers(images, spec.encoder.layers, 'encoder.layers'), spec.encoder.pool, 'encoder.pool');
  g.outputs.set('features', x.id);
  return g;
}

class Builder {
  readonly params: Tensor[] = [];
  constructor(
    private readonly g: Graph,
    private readonly mode: 'train' | 'eval' = 'train',
  ) {}

  layers(x: Tensor, layers: EncoderLayer[], path: string): Tensor {
    return layers.reduce((h, layer, k) => this.layer(h, layer, `${path}.${k}`), x);
  }

  private layer(x: Tensor, layer: EncoderLayer, path: string): Tensor {
    const g = this.g;
    switch (layer.type) {
      case 'conv': {
        this.rank(x, 4, path, 'conv');
        const k = layer.kernel ?? 3;
        const w = this.param(`${path}.weight`, [layer.out, x.shape[1], k, k], path, 'weight', x.shape[1] * k * k);
        const inputs = [x, w];
        if (layer.bias) inputs.push(this.param(`${path}.bias`, [layer.out], path, 'bias', x.shape[1] * k * k));
        const attrs = { stride: layer.stride ?? 1, padding: layer.padding ?? Math.floor(k / 2) };
        return g.add('conv2d', inputs, attrs, path)[0];
      }
      case 'linear': {
        this.rank(x, 2, path, 'linear');
        return this.linear(x, layer.out, layer.bias ?? true, path, path);
      }
      case 'batchnorm':
        return this.batchnorm(x, layer.eps ?? 1e-5, layer.momentum ?? 0.1, path, path);
      case 'relu':
        return g.add('relu', [x], {}, path)[0];
      case 'flatten':
        return g.add('flatten', [x], {}, path)[0];
      case 'maxpool':
      case 'avgpool': {
        this.rank(x, 4, path, layer.type);
        const defaults = layer.type === 'maxpool' ? [3, 2, 1] : [2, 2, 0];
        const attrs = { kernel: layer.kernel ?? defaults[0], stride: layer.stride ?? defaults[1], padding: layer.padding ?? defaults[2] };
        return g.add(layer.type === 'maxpool' ? 'maxpool2d' : 'avgpool2d', [x], attrs, path)[0];
      }
      case 'residual': {
        const body = this.layers(x, layer.body, `${path}.body`);
        const shortcut = layer.shortcut?.length ? this.layers(x, layer.shortcut, `${path}.shortcut`) : x;
        if (fmtShape(body.shape) !== fmtShape(shortcut.shape)) {
          throw new ShapeError(path, 'residual', `body gives ${fmtShape(body.shape)} but the shortcut gives ${fmtShape(shortcut.shape)}`);
        }
        const [sum] = g.add('add', [body, shortcut], {}, path);
        return layer.relu === false ? sum : g.add('relu', [sum], {}, path)[0];
      }
    }
  }

  /** Global pooling of the last 4-D output; 2-D features pass through. */
  pool(x: Tensor, pool: ModelSpec['encoder']['pool'], path: string): Tensor {
    if (x.shape.length === 2) return x;
    this.rank(x, 4, path, 'pool');
    const op = pool === 'avg' ? 'global_avg_pool' : pool === 'max' ? 'global_max_pool' : 'cat_avg_max';
    return this.g.add(op, [x], {}, path)[0];
  }

  /** (layers−1) × [linear → batchnorm1d → relu], then linear(out); names follow nn.Sequential indices. */
  projector(x: Tensor, p: ModelSpec['projector']): Tensor {
    let index = 0;
    let h = x;
    for (let k = 0; k < p.layers - 1; k++) {
      h = this.linear(h, p.hidden, !p.batchnorm, `projector.${index++}`, 'projector.hidden');
      if (p.batchnorm) h = this.batchnorm(h, 1e-5, 0.1, `projector.${index++}`, 'projector.batchnorm');
      h = this.g.add('relu', [h], {}, 'projector')[0];
      index++;
    }
    return this.linear(h, p.out, true, `projector.${index}`, 'projector.out');
  }

  private linear(x: Tensor, out: number, bias: boolean, name: string, path: string): Tensor {
    const fanIn = x.shape[1];
    const inputs = [x, this.param(`${name}.weight`, [out, fanIn], path, 'weight', fanIn)];
    if (bias) inputs.push(this.param(`${name}.bias`, [out], path, 'bias', fanIn));
    return this.g.add('linear', inputs, {}, path)[0];
  }

  /** Training-mode BatchNorm (batch statistics); its running statistics are outputs of the step. */
  private batchnorm(x: Tensor, eps: number, momentum: number, name: string, path: string): Tensor {
    if (x.shape.length !== 2 && x.shape.length !== 4) {
      throw new ShapeError(path, 'batchnorm', `needs a 2-D (N,C) or 4-D (N,C,H,W) input, got ${fmtShape(x.shape)}`);
    }
    const c = x.shape[1];
    const gamma = this.param(`${name}.weight`, [c], path, 'bn_weight');
    const beta = this.param(`${name}.bias`, [c], path, 'bn_bias');
    const mean = this.g.leaf('state', [c], path, { name: `${name}.running_mean`, fill: 0 });
    const variance = this.g.leaf('state', [c], path, { name: `${name}.running_var`, fill: 1 });
    if (this.mode === 'eval') return this.g.add('batchnorm_eval', [x, gamma, beta, mean, variance], { eps }, path)[0];
    const [y, newMean, newVar] = this.g.add('batchnorm', [x, gamma, beta, mean, variance], { eps, momentum }, path);
    this.g.outputs.set(mean.name!, newMean.id);
    this.g.outputs.set(variance.name!, newVar.id);
    return y;
  }

  /** PyTorch's default init: U(±1/√fan_in) for conv/linear weights and biases, 1 and 0 for BatchNorm. */
  private param(name: string, shape: number[], path: string, kind: ParamKind, fanIn?: number): Tensor {
    const init = kind === 'bn_weight' ? { fill: 1 } : kind === 'bn_bias' ? { fill: 0 } : { bound: 1 / Math.sqrt(fanIn ?? 1) };
    const t = this.g.leaf('param', shape, path, { name, kind, ...init });
    this.params.push(t);
    return t;
  }

  private rank(x: Tensor, rank: number, path: string, op: string): void {
    if (x.shape.length !== rank) {
      const what = rank === 4 ? 'a 4-D (N,C,H,W) input' : 'a 2-D (N,features) input; add a flatten layer before it';
      throw new ShapeError(path, op, `needs ${what}, got ${fmtShape(x.shape)}`);
    }
  }
}
