// Checks the schema cannot express: relations between fields of the resolved spec. Each problem is
// positioned at the field the user wrote (or the nearest block holding the default).
import { perClass, valCount } from './label-counts.js';
import type { Code } from './codes.js';
import { diagnostic, type Diagnostic, type Loc } from './diagnostic.js';
import type { SpecPath } from './tree.js';
import type { ResolvedSpec } from './types.js';

export type Locate = (path: SpecPath) => Loc;

/**
 * The training split's size and classes where the source fixes them without reading files (the
 * embedded MNIST: 5/6 of 10,000; Fashion-MNIST's 60,000; synthetic), so `check` can size the
 * labelled subset; other sources are checked when the run reads them.
 */
function knownTrainSplit(data: ResolvedSpec['data']): { count: number; classes: number } | undefined {
  if (data.split !== 'train') return undefined;
  const full = data.source === 'mnist' ? 8333 : data.source === 'fashion-mnist' && !data.path ? 60000 : data.source === 'synthetic' ? 2048 : undefined;
  return full === undefined ? undefined : { count: Math.min(full, data.limit ?? full), classes: 10 };
}

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
  const known = knownTrainSplit(data);
  if (spec.finetune && known) {
    const train = known.count - valCount(known.count, data.val_fraction);
    if (perClass(train, spec.finetune.label_fraction, known.classes) < 1) {
      const least = (known.classes / train).toPrecision(2);
      report('E0309', ['finetune', 'label_fraction'], `finetune.label_fraction ${spec.finetune.label_fraction} of the ${train} training images (after data.val_fraction) gives fewer than one labelled image for each of ${known.classes} classes; use at least ${least}`);
    }
  }
  if (spec.distill && spec.distill.teacher === 'finetune' && !spec.finetune) {
    report('E0310', ['distill', 'teacher'], 'distill.teacher is `finetune` (the default) but the spec has no finetune section: add one, or name a run folder or checkpoint of a fine-tuned network');
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
