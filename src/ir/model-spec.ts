// The part of the resolved spec (src/spec/types.ts) the model builder reads. A resolved spec is one;
// fields the builder has defaults for are optional, so graphs for tests and tools stay short.
import type {
  AvgpoolLayer,
  BatchnormLayer,
  ConvLayer,
  EncoderSpec,
  FlattenLayer,
  LinearLayer,
  LossSpec,
  MaxpoolLayer,
  ProjectorSpec,
  ReluLayer,
  ResidualLayer,
} from '../spec/types.js';
import type { AugOp } from '../kernels/augment/types.js';

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

export type EncoderLayer =
  | Optional<ConvLayer, 'kernel' | 'stride' | 'padding' | 'bias'>
  | Optional<BatchnormLayer, 'eps' | 'momentum'>
  | ReluLayer
  | Optional<MaxpoolLayer | AvgpoolLayer, 'kernel' | 'stride' | 'padding'>
  | FlattenLayer
  | Optional<LinearLayer, 'bias'>
  | (Optional<Pick<ResidualLayer, 'type' | 'relu'>, 'relu'> & { body: EncoderLayer[]; shortcut?: EncoderLayer[] });

export interface ModelSpec {
  data?: { image_size?: number; channels?: number };
  /** Without `views` the phase is fed its views (golden tests, benches on fixed views). */
  augment?: { size?: number; views?: [AugOp[], AugOp[]] };
  encoder: Pick<EncoderSpec, 'in_channels' | 'pool'> & { checkpoint?: boolean; layers: EncoderLayer[] };
  projector: ProjectorSpec;
  loss: Pick<LossSpec, 'temperature'>;
}
