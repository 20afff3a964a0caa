// The encoder as an ONNX model (opset 17), in eval mode: conv, batchnorm (kept as
// BatchNormalization with its running statistics), relu, pools, residual adds, flatten, linear and
// the global pooling, with the checkpoint's state_dict names as initializer names. The input is the
// normalised view (N, C, size, size) the project's feature graph reads; the output is `features`.
import type { EncoderLayer } from '../ir/model-spec.js';
import type { ResolvedSpec } from '../spec/index.js';
import { RunFolderError } from './errors.js';
import { Message } from './protobuf.js';

const OPSET = 17;
const IR_VERSION = 8;
const FLOAT = 1;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = number | number[] | { float: number };

/** Per image: [C, H, W] while convolutional, [F] once flat. */
type Dims = number[];

export interface OnnxEncoder {
  bytes: Uint8Array;
  /** Features per image: the model's output is (N, featureDim). */
  featureDim: number;
}

export function encoderToOnnx(
  encoder: ResolvedSpec['encoder'],
  weights: Record<string, Float32Array>,
  input: { channels: number; size: number },
): OnnxEncoder {
  const g = new GraphWriter(weights);
  const [x, dims] = g.layers('input', [input.channels, input.size, input.size], encoder.layers as EncoderLayer[], 'encoder.layers');
  const [features, featureDims] = g.pool(x, dims, encoder.pool);
  g.rename(features, 'features');
  const graph = new Message()
    .messages(1, g.nodes)
    .string(2, `${encoder.name ?? 'encoder'}`)
    .messages(5, g.initializers)
    .string(10, 'SimCLR encoder exported by simclr-compile: input is the normalised view, output the pooled features')
    .message(11, valueInfo('input', ['batch', input.channels, input.size, input.size]))
    .message(12, valueInfo('features', ['batch', featureDims[0]]));
  const model = new Message()
    .int(1, IR_VERSION)
    .string(2, 'simclr-compile')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, OPSET));
  return { bytes: model.finish(), featureDim: featureDims[0] };
}

class GraphWriter {
  readonly nodes: Message[] = [];
  readonly initializers: Message[] = [];
  private readonly outputs: string[][] = [];
  private readonly pendingNodes: { op: string; inputs: string[]; outputs: string[]; attrs: Record<string, Attr> }[] = [];
  private count = 0;

  constructor(private readonly weights: Record<string, Float32Array>) {}

  layers(x: string, dims: Dims, layers: EncoderLayer[], path: string): [string, Dims] {
    return layers.reduce<[string, Dims]>(([h, d], layer, k) => this.layer(h, d, layer, `${path}.${k}`), [x, dims]);
  }

  pool(x: string, dims: Dims, pool: ResolvedSpec['encoder']['pool']): [string, Dims] {
    if (dims.length === 1) return [x, dims];
    const global = (op: string) => this.node('Flatten', [this.node(op, [x], {})], { axis: 1 });
    if (pool === 'avg') return [global('GlobalAveragePool'), [dims[0]]];
    if (pool === 'max') return [global('GlobalMaxPool'), [dims[0]]];
    // cat_avg_max: average first, as the feature graph concatenates them.
    return [this.node('Concat', [global('GlobalAveragePool'), global('GlobalMaxPool')], { axis: 1 }), [2 * dims[0]]];
  }

  /** The last node's output takes the graph output's name; then the nodes are encoded. */
  rename(from: string, to: string): void {
    for (const outs of this.outputs) for (let i = 0; i < outs.length; i++) if (outs[i] === from) outs[i] = to;
    this.finishNodes();
  }

  private layer(x: string, dims: Dims, layer: EncoderLayer, path: string): [string, Dims] {
    switch (layer.type) {
      case 'conv': {
        const [c, h, w] = dims;
        const k = layer.kernel ?? 3;
        const s = layer.stride ?? 1;
        const p = layer.padding ?? Math.floor(k / 2);
        const inputs = [x, this.param(`${path}.weight`, [layer.out, c, k, k])];
        if (layer.bias) inputs.push(this.param(`${path}.bias`, [layer.out]));
        const y = this.node('Conv', inputs, { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] });
        return [y, [layer.out, Math.floor((h + 2 * p - k) / s) + 1, Math.floor((w + 2 * p - k) / s) + 1]];
      }
      case 'batchnorm': {
        const c = dims[0];
        const names = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => this.param(`${path}.${n}`, [c]));
        return [this.node('BatchNormalization', [x, ...names], { epsilon: { float: layer.eps ?? 1e-5 } }), dims];
      }
      case 'relu':
        return [this.node('Relu', [x], {}), dims];
      case 'flatten':
        return [this.node('Flatten', [x], { axis: 1 }), [dims.reduce((a, b) => a * b, 1)]];
      case 'linear': {
        const inputs = [x, this.param(`${path}.weight`, [layer.out, dims[0]])];
        if (layer.bias ?? true) inputs.push(this.param(`${path}.bias`, [layer.out]));
        return [this.node('Gemm', inputs, { transB: 1 }), [layer.out]];
      }
      case 'maxpool':
      case 'avgpool': {
        const [c, h, w] = dims;
        const [dk, ds, dp] = layer.type === 'maxpool' ? [3, 2, 1] : [2, 2, 0];
        const k = layer.kernel ?? dk;
        const s = layer.stride ?? ds;
        const p = layer.padding ?? dp;
        const attrs: Record<string, Attr> = { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] };
        // PyTorch's AvgPool2d counts padding in the divisor by default; so does the spec's avgpool.
        if (layer.type === 'avgpool') attrs.count_include_pad = 1;
        const y = this.node(layer.type === 'maxpool' ? 'MaxPool' : 'AveragePool', [x], attrs);
        return [y, [c, Math.floor((h + 2 * p - k) / s) + 1, Math.floor((w + 2 * p - k) / s) + 1]];
      }
      case 'residual': {
        const [body, bodyDims] = this.layers(x, dims, layer.body, `${path}.body`);
        const [shortcut] = layer.shortcut?.length ? this.layers(x, dims, layer.shortcut, `${path}.shortcut`) : [x];
        const sum = this.node('Add', [body, shortcut], {});
        return [layer.relu === false ? sum : this.node('Relu', [sum], {}), bodyDims];
      }
      default:
        throw new RunFolderError('E0505', `${path}: layer type ${(layer as { type: string }).type} has no ONNX form`);
    }
  }

  /** A checkpoint tensor as an initializer under its own name, its shape checked against the spec. */
  private param(name: string, shape: number[]): string {
    const data = this.weights[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new RunFolderError('E0502', `the checkpoint has no tensor ${name}, which the spec's encoder needs`);
    if (data.length !== count) throw new RunFolderError('E0502', `checkpoint tensor ${name} has ${data.length} values; the spec's encoder needs [${shape}] (${count})`);
    this.initializers.push(
      new Message()
        .ints(1, shape)
        .int(2, FLOAT)
        .string(8, name)
        .raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    );
    return name;
  }

  private node(op: string, inputs: string[], attrs: Record<string, Attr>): string {
    const out = `${op.toLowerCase()}_${this.count++}`;
    const outputs = [out];
    this.outputs.push(outputs);
    this.pendingNodes.push({ op, inputs, outputs, attrs });
    return out;
  }

  private finishNodes(): void {
    for (const n of this.pendingNodes) {
      const m = new Message().strings(1, n.inputs).strings(2, n.outputs).string(3, n.outputs[0]).string(4, n.op);
      for (const [name, value] of Object.entries(n.attrs)) m.message(5, attribute(name, value));
      this.nodes.push(m);
    }
  }
}

function attribute(name: string, value: Attr): Message {
  const m = new Message().string(1, name);
  if (Array.isArray(value)) return m.ints(8, value).int(20, ATTR_INTS);
  if (typeof value === 'number') return m.int(3, value).int(20, ATTR_INT);
  return m.float(2, value.float).int(20, ATTR_FLOAT);
}

function valueInfo(name: string, dims: (number | string)[]): Message {
  const shape = new Message().messages(
    1,
    dims.map((d) => (typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d))),
  );
  return new Message().string(1, name).message(2, new Message().message(1, new Message().int(1, FLOAT).message(2, shape)));
}
