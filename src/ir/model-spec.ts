// The part of the resolved spec (src/spec/types.ts) the model builder reads. A resolved spec is one;
// every field the schema gives a default is required, so the builder never restates a default.
import type { AugmentSpec, EncoderSpec, Layer, LossSpec, ProjectorSpec } from '../spec/types.js';

export type EncoderLayer = Layer;

export interface ModelSpec {
  augment: Pick<AugmentSpec, 'size'>;
  encoder: Pick<EncoderSpec, 'in_channels' | 'pool' | 'checkpoint' | 'layers'>;
  projector: ProjectorSpec;
  loss: Pick<LossSpec, 'temperature'>;
}
