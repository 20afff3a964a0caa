// Hand-written models for graph-level tests, completed by the spec front end's resolver: every field
// a test leaves out takes the schema's default, so no test restates one.
import { resolveDefaults } from '../../src/spec/defaults.js';
import type { EncoderSpec, Layer, LossSpec, ProjectorSpec, ResolvedSpec } from '../../src/spec/types.js';

/** A layer as a spec writes it: `type` and the fields without a default, the rest optional. */
export type LayerInput = { type: Layer['type'] } & Record<string, unknown>;

export interface ModelInput {
  augment?: { size?: number };
  encoder: Partial<Omit<EncoderSpec, 'layers'>> & { layers: LayerInput[] };
  projector?: Partial<ProjectorSpec>;
  loss?: Partial<LossSpec>;
}

/** The resolved spec of a model given by its non-default fields. */
export function modelSpec(input: ModelInput): ResolvedSpec {
  return resolveDefaults(structuredClone(input));
}

/** One layer with the schema's defaults filled in (conv padding from its kernel, as the resolver does). */
export function layer<T extends Layer['type']>(input: { type: T } & Record<string, unknown>): Extract<Layer, { type: T }> {
  return modelSpec({ encoder: { layers: [input] } }).encoder.layers[0] as Extract<Layer, { type: T }>;
}
