// Every kind of error a `.simclr` spec can hold, with its code, position and message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectError, expectOnly } from './expect.js';

test('misspelt key: did you mean', () => {
  const d = expectError('loss {\n  temprature: 0.1\n}', 'E0102', 2, 3, "unknown key 'temprature' in loss; did you mean 'temperature'?");
  assert.is(d.hint, 'temperature');
  assert.equal(d.range.end, { line: 2, column: 13 });
});
test('misspelt top-level section', () => void expectError('projecter { hidden: 64 }', 'E0102', 1, 1, "did you mean 'projector'?"));
test('wrong enum value: did you mean', () => void expectError('optimizer { type: lasr }', 'E0103', 1, 19, "'lasr' is not a valid optimizer.type: expected lars, sgd, adamw; did you mean 'lars'?"));
test('unknown layer type in a tagged block', () => void expectError('encoder { layers: [conv { out: 8 }, rellu] }', 'E0103', 1, 37, "unknown type 'rellu' in encoder.layers[1]"));
test('unknown augment op', () => void expectError('augment { ops: [flip, blurr { p: 1 }] }', 'E0103', 1, 23, "did you mean 'blur'?"));
test('out of range', () => void expectError('train {\n  batch_size: 1\n}', 'E0104', 2, 15, 'train.batch_size must be >= 2, found 1'));
test('temperature must be positive', () => void expectError('loss { temperature: 0 }', 'E0104', 1, 21, 'loss.temperature must be > 0'));
test('projector needs at least two layers', () => void expectError('projector { layers: 1 }', 'E0104', 1, 21, 'projector.layers must be >= 2'));
test('probability above 1', () => void expectError('augment { ops: [flip { p: 1.5 }] }', 'E0104', 1, 27, 'augment.ops[0].p must be <= 1'));
test('wrong type', () => void expectError('train { batch_size: "lots" }', 'E0101', 1, 21, "train.batch_size must be a whole number, found 'lots'"));
test('fraction where a whole number belongs', () => void expectError('train { steps: 1.5 }', 'E0101', 1, 16, 'a whole number'));
test('block where a value belongs', () => void expectError('eval { knn: true }', 'E0101', 1, 13, 'eval.knn must be false or a block'));
test('missing required field', () => void expectError('encoder { layers: [conv { kernel: 3 }] }', 'E0105', 1, 20, "missing required field 'out' in encoder.layers[0]"));
test('unclosed block: one message, at the brace', () => {
  expectOnly('data {\n  source: mnist\ntrain { steps: 10 }\n', ['E0004@1:6']);
});
test('stray closing brace', () => void expectOnly('data { source: mnist } }\ntrain { steps: 10 }', ['E0003@1:24']));
test('missing colon gives one message', () => void expectOnly('loss { temperature 0.1 }\ntrain { steps: 10 }', ['E0003@1:20']));
test('missing value', () => void expectOnly('data { source: }', ['E0003@1:16']));
test('unterminated string', () => void expectOnly('name: "mnist\ntrain { steps: 10 }', ['E0002@1:7']));
test('unexpected character', () => void expectOnly('data { source: @mnist }', ['E0001@1:16']));
test('extends inside a block: one message saying what to write', () => void expectOnly('encoder { extends xresnet18 }', ['E0003@1:11']));
test('use at the top level: one message', () => void expectError('use xresnet18', 'E0003', 1, 1, "at the top level write 'extends'"));
test('a list item without its type', () => void expectError('encoder { layers: [conv { out: 3 }, { out: 4 }] }', 'E0105', 1, 37, "missing required field 'type' in encoder.layers[1]"));
test('duplicate key', () => void expectOnly('data { limit: 1, limit: 2 }', ['E0005@1:18']));
test('unknown stdlib preset: did you mean', () => void expectError('encoder { use xresnet81 }', 'E0201', 1, 15, "unknown stdlib preset 'xresnet81'; did you mean 'xresnet18'?"));
test('missing file', () => void expectError('extends "./nowhere"', 'E0201', 1, 9, "no spec file './nowhere'"));
test('preset without the block used', () => void expectError('encoder { use simclr_v2 }', 'E0203', 1, 15, "preset 'simclr_v2' has no 'encoder' block"));
test('augment size larger than the images', () => void expectError('data { image_size: 28 }\naugment { size: 32 }', 'E0301', 2, 17, 'larger than the images'));
test('epochs and steps both', () => void expectError('train { epochs: 2, steps: 10 }', 'E0302', 1, 27));
test('normalize with the wrong number of channels', () => void expectError('augment { ops: [normalize { mean: [0.5, 0.5, 0.5] }] }', 'E0303', 1, 35, '3 values but the images have 1 channel'));
test('image folder without a path', () => void expectError('data { source: image-folder }', 'E0304', 1, 16));
test('even blur kernel', () => void expectError('augment { ops: [blur { kernel: 4 }] }', 'E0305', 1, 32, 'must be odd'));
test('crop scale upside down', () => void expectError('augment { ops: [random_resized_crop { scale: [0.9, 0.2] }] }', 'E0306', 1, 46));
test('encoder channels differ from the data', () => void expectError('encoder { in_channels: 3 }', 'E0307', 1, 24));
// Fashion-MNIST's 60,000 training images less the 5,000 validation ones: 0.0001 labels 5.5 images, under one a class.
test('a label fraction too small for the classes', () =>
  void expectError('data { source: fashion-mnist }\nfinetune { label_fraction: 0.0001 }', 'E0309', 2, 28, 'fewer than one labelled image for each of 10 classes; use at least 0.00018'));
test('a label fraction of one image a class passes', () => void expectOnly('data { source: fashion-mnist }\nfinetune { label_fraction: 0.0002 }\ntrain { steps: 10 }', []));
test("distilling from this run's fine-tuned network without a finetune section", () => void expectError('distill { temperature: 2 }', 'E0310', 1, 9, 'has no finetune section'));
test('fine-tuning beyond the head', () => void expectError('finetune { from_layer: 2 }', 'E0308', 1, 24, "beyond the projector's 1 hidden layer"));

test('several errors in one file are all reported, in order', () => {
  const text = ['data {', '  sorce: mnist', '}', 'loss { temperature: -1 }', 'optimizer { type: adam }', 'train { batch_size: "x" }'].join('\n');
  expectOnly(text, ['E0102@2:3', 'E0104@4:21', 'E0103@5:19', 'E0101@6:21']);
});
test('two syntax errors on two lines are both reported', () => {
  expectOnly('data { source mnist }\nloss { temperature: 0.1 }\ntrain { steps 10 }', ['E0003@1:15', 'E0003@3:15']);
});

test.run();
