// A small encoder (two convolutions, optional BatchNorm) and 2-layer head on 6×6 one-channel views
// of 7 images: small enough for float64 evaluation, odd enough that few chunk sizes divide it.
import type { ModelSpec } from '../../src/ir/model-spec.js';
import { optimizerFor } from '../../src/ir/optimizer.js';

export const SIZE = 6;
export const optimizer = optimizerFor({ type: 'sgd', lr: 0.1, lr_scaling: 'none', momentum: 0.9, weight_decay: 1e-4 } as never, 7);

export function chunkSpec(batchnorm: boolean): ModelSpec & { optimizer: typeof optimizer } {
  const bn = batchnorm ? [{ type: 'batchnorm' as const, eps: 1e-5, momentum: 0.1 }] : [];
  return {
    augment: { size: SIZE },
    encoder: {
      in_channels: 1,
      pool: 'cat_avg_max',
      checkpoint: false,
      layers: [
        { type: 'conv', out: 4, kernel: 3, stride: 1, padding: 1, bias: !batchnorm },
        ...bn,
        { type: 'relu' },
        { type: 'conv', out: 6, kernel: 3, stride: 2, padding: 1, bias: true },
        { type: 'relu' },
      ],
    } as ModelSpec['encoder'],
    projector: { hidden: 8, out: 5, layers: 2, batchnorm },
    loss: { temperature: 0.5 },
    optimizer,
  };
}

