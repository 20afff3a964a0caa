// The part of the resolved spec (src/spec/types.ts) the model builder reads. A resolved spec is one;
// every field the schema gives a default is required, so the builder never restates a default.
import type { AugmentSpec, DataSpec, EncoderSpec, Layer, LossSpec, ProjectorSpec } from '../spec/types.js';

export type EncoderLayer = Layer;

export interface ModelSpec {
  /** Without `views` the pre-training phase is fed its views (golden tests, benches on fixed views). */
  augment: Pick<AugmentSpec, 'size'> & Partial<Pick<AugmentSpec, 'views'>>;
  /** The images as loaded, which the augmentation reads (the views' size and channels when absent). */
  data?: Pick<DataSpec, 'image_size' | 'channels'>;
  encoder: Pick<EncoderSpec, 'in_channels' | 'pool' | 'checkpoint' | 'layers'>;
  projector: ProjectorSpec;
  loss: Pick<LossSpec, 'temperature'>;
}
