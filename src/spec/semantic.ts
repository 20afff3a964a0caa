// Checks the schema cannot express: relations between fields of the resolved spec. Each problem is
// positioned at the field the user wrote (or the nearest block holding the default).
import type { Code } from './codes.js';
import { diagnostic, type Diagnostic, type Loc } from './diagnostic.js';
import type { SpecPath } from './tree.js';
import type { ResolvedSpec } from './types.js';

export type Locate = (path: SpecPath) => Loc;

export function semanticDiagnostics(spec: ResolvedSpec, locate: Locate): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (code: Code, path: SpecPath, message: string) => out.push(diagnostic(code, locate(path), message));
  const { data, augment, encoder, train, projector } = spec;

  if (augment.size > data.image_size) {
    report('E0301', ['augment', 'size'], `augment.size ${augment.size} is larger than the images (data.image_size ${data.image_size}): crops cannot be upsampled beyond them`);
  }
  if (train.epochs !== undefined && train.steps !== undefined) {
    report('E0302', ['train', 'steps'], 'give train.epochs or train.steps, not both');
  }
  if ((data.source === 'idx' || data.source === 'image-folder') && !data.path) {
    report('E0304', ['data', 'source'], `data source '${data.source}' needs data.path`);
  }
  if (encoder.in_channels !== data.channels) {
    report('E0307', ['encoder', 'in_channels'], `encoder.in_channels is ${encoder.in_channels} but the images have ${data.channels} channel${data.channels === 1 ? '' : 's'} (data.channels)`);
  }
  if (spec.finetune && spec.finetune.from_layer > projector.layers - 1) {
    report('E0308', ['finetune', 'from_layer'], `finetune.from_layer ${spec.finetune.from_layer} is beyond the projector's ${projector.layers - 1} hidden layer${projector.layers === 2 ? '' : 's'}`);
  }
  augment.views.forEach((view, v) =>
    view.forEach((op, i) => {
      const at = (...rest: SpecPath) => ['augment', 'views', v, i, ...rest];
      const range = (key: string, pair: [number, number]) => {
        if (pair[0] > pair[1]) report('E0306', at(key), `${op.op} ${key} [${pair.join(', ')}]: the minimum is larger than the maximum`);
      };
      if (op.op === 'normalize') {
        for (const key of ['mean', 'std'] as const) {
          if (op[key].length !== data.channels) report('E0303', at(key), `normalize ${key} has ${op[key].length} value${op[key].length === 1 ? '' : 's'} but the images have ${data.channels} channel${data.channels === 1 ? '' : 's'}`);
        }
      }
      if (op.op === 'blur') {
        if (op.kernel % 2 === 0) report('E0305', at('kernel'), `blur kernel ${op.kernel} must be odd`);
        range('sigma', op.sigma);
      }
      if (op.op === 'random_resized_crop') {
        range('scale', op.scale);
        range('ratio', op.ratio);
      }
    }),
  );
  return out;
}
