// Network builder: the resolved spec's encoder layers, pooling, projector and classifier as graph nodes.
// Every node carries the spec path of the layer it came from, so shape errors point at the spec.
import { ShapeError, fmtShape, type Graph, type ParamKind, type Stage, type Tensor } from './graph.js';
import type { EncoderLayer, ModelSpec } from './model-spec.js';

/** What a phase's network is: an encoder, the projection head up to a layer, a classifier. */
export interface NetworkSpec {
  encoder?: ModelSpec['encoder'];
  /**
   * The projection head; `upTo` k keeps its first k layers (google-research/simclr's
   * ft_proj_selector: 0 the encoder output, k the k-th linear → batchnorm → relu), all when absent.
   */
  head?: { projector: ModelSpec['projector']; upTo?: number };
  /** A new linear layer over whatever precedes it, named classifier.weight / classifier.bias. */
  classifier?: { classes: number; zeroInit?: boolean };
}

/** The spec has no fields for the projector's BatchNorm1d layers: they keep PyTorch's eps and momentum. */
const PROJECTOR_BN = { eps: 1e-5, momentum: 0.1 };

export class Builder {
  readonly params: Tensor[] = [];
  /** The network's output under the name of what it is: 'features', 'z' or 'logits'. */
  readonly named: Record<string, Tensor> = {};
  /**
   * `shared` holds the params and state of an earlier copy of the network in the same graph (the
   * chunks of a chunked step): a copy reads those params, and its BatchNorm layers read the running
   * statistics the previous copy wrote; the map is updated as it goes.
   */
  constructor(
    private readonly g: Graph,
    private readonly mode: 'train' | 'eval' = 'train',
    private readonly stage: Stage = 'forward',
    private readonly shared?: Map<string, Tensor>,
  ) {}

  network(input: Tensor, n: NetworkSpec): Tensor {
    let x = input;
    let name = 'input';
    if (n.encoder) {
      x = this.pool(this.layers(x, n.encoder.layers, 'encoder.layers'), n.encoder.pool, 'encoder.pool');
      name = 'features';
    }
    if (n.head && n.head.upTo !== 0) {
      x = this.projector(x, n.head.projector, n.head.upTo);
      name = 'z';
    }
    if (n.classifier) {
      x = this.linear(x, n.classifier.classes, true, 'classifier', 'classifier', n.classifier.zeroInit);
      name = 'logits';
    }
    this.named[name] = x;
    return x;
  }

  private add(op: string, inputs: Tensor[], attrs: Record<string, unknown>, path: string): Tensor[] {
    return this.g.add(op, inputs, attrs, path, this.stage);
  }

  layers(x: Tensor, layers: EncoderLayer[], path: string): Tensor {
    return layers.reduce((h, layer, k) => this.layer(h, layer, `${path}.${k}`), x);
  }

  private layer(x: Tensor, layer: EncoderLayer, path: string): Tensor {
    switch (layer.type) {
      case 'conv': {
        this.rank(x, 4, path, 'conv');
        const k = layer.kernel;
        const w = this.param(`${path}.weight`, [layer.out, x.shape[1], k, k], path, 'weight', x.shape[1] * k * k);
        const inputs = [x, w];
        if (layer.bias) inputs.push(this.param(`${path}.bias`, [layer.out], path, 'bias', x.shape[1] * k * k));
        const attrs = { stride: layer.stride, padding: layer.padding };
        return this.add('conv2d', inputs, attrs, path)[0];
      }
      case 'linear': {
        this.rank(x, 2, path, 'linear');
        return this.linear(x, layer.out, layer.bias, path, path);
      }
      case 'batchnorm':
        return this.batchnorm(x, layer.eps, layer.momentum, path, path);
      case 'relu':
        return this.add('relu', [x], {}, path)[0];
      case 'flatten':
        return this.add('flatten', [x], {}, path)[0];
      case 'maxpool':
      case 'avgpool': {
        this.rank(x, 4, path, layer.type);
        const attrs = { kernel: layer.kernel, stride: layer.stride, padding: layer.padding };
        return this.add(layer.type === 'maxpool' ? 'maxpool2d' : 'avgpool2d', [x], attrs, path)[0];
      }
      case 'residual': {
        const body = this.layers(x, layer.body, `${path}.body`);
        const shortcut = layer.shortcut.length ? this.layers(x, layer.shortcut, `${path}.shortcut`) : x;
        if (fmtShape(body.shape) !== fmtShape(shortcut.shape)) {
          throw new ShapeError(path, 'residual', `body gives ${fmtShape(body.shape)} but the shortcut gives ${fmtShape(shortcut.shape)}`);
        }
        const [sum] = this.add('add', [body, shortcut], {}, path);
        return !layer.relu ? sum : this.add('relu', [sum], {}, path)[0];
      }
    }
  }

  /** Global pooling of the last 4-D output; 2-D features pass through. */
  pool(x: Tensor, pool: ModelSpec['encoder']['pool'], path: string): Tensor {
    if (x.shape.length === 2) return x;
    this.rank(x, 4, path, 'pool');
    const op = pool === 'avg' ? 'global_avg_pool' : pool === 'max' ? 'global_max_pool' : 'cat_avg_max';
    return this.add(op, [x], {}, path)[0];
  }

  /**
   * (layers−1) × [linear → batchnorm1d → relu], then linear(out), the first `upTo` of those layers
   * when given; names follow nn.Sequential indices.
   */
  projector(x: Tensor, p: ModelSpec['projector'], upTo = p.layers): Tensor {
    let index = 0;
    let h = x;
    for (let k = 0; k < Math.min(upTo, p.layers - 1); k++) {
      h = this.linear(h, p.hidden, !p.batchnorm, `projector.${index++}`, 'projector.hidden');
      if (p.batchnorm) h = this.batchnorm(h, PROJECTOR_BN.eps, PROJECTOR_BN.momentum, `projector.${index++}`, 'projector.batchnorm');
      h = this.add('relu', [h], {}, 'projector')[0];
      index++;
    }
    if (upTo < p.layers) return h;
    return this.linear(h, p.out, true, `projector.${index}`, 'projector.out');
  }

  /** A zero-initialised layer (a new classifier's logits layer, as SimCLR v2's) starts at 0. */
  private linear(x: Tensor, out: number, bias: boolean, name: string, path: string, zeroInit = false): Tensor {
    const fanIn = x.shape[1];
    const inputs = [x, this.param(`${name}.weight`, [out, fanIn], path, 'weight', fanIn, zeroInit)];
    if (bias) inputs.push(this.param(`${name}.bias`, [out], path, 'bias', fanIn, zeroInit));
    return this.add('linear', inputs, {}, path)[0];
  }

  /** Training-mode BatchNorm (batch statistics); its running statistics are outputs of the step. */
  private batchnorm(x: Tensor, eps: number, momentum: number, name: string, path: string): Tensor {
    if (x.shape.length !== 2 && x.shape.length !== 4) {
      throw new ShapeError(path, 'batchnorm', `needs a 2-D (N,C) or 4-D (N,C,H,W) input, got ${fmtShape(x.shape)}`);
    }
    const c = x.shape[1];
    const gamma = this.param(`${name}.weight`, [c], path, 'bn_weight');
    const beta = this.param(`${name}.bias`, [c], path, 'bn_bias');
    const [meanName, varName] = [`${name}.running_mean`, `${name}.running_var`];
    const mean = this.shared?.get(meanName) ?? this.g.leaf('state', [c], path, { name: meanName, fill: 0 });
    const variance = this.shared?.get(varName) ?? this.g.leaf('state', [c], path, { name: varName, fill: 1 });
    if (this.mode === 'eval') return this.add('batchnorm_eval', [x, gamma, beta, mean, variance], { eps }, path)[0];
    const [y, newMean, newVar] = this.add('batchnorm', [x, gamma, beta, mean, variance], { eps, momentum }, path);
    this.g.outputs.set(meanName, newMean.id);
    this.g.outputs.set(varName, newVar.id);
    this.shared?.set(meanName, newMean).set(varName, newVar);
    return y;
  }

  /** PyTorch's default init: U(±1/√fan_in) for conv/linear weights and biases, 1 and 0 for BatchNorm. */
  private param(name: string, shape: number[], path: string, kind: ParamKind, fanIn?: number, zero = false): Tensor {
    const init = kind === 'bn_weight' ? { fill: 1 } : kind === 'bn_bias' || zero ? { fill: 0 } : { bound: 1 / Math.sqrt(fanIn ?? 1) };
    const t = this.shared?.get(name) ?? this.g.leaf('param', shape, path, { name, kind, ...init });
    this.shared?.set(name, t);
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
