// The same kinds of error in YAML specs: ajv's instance paths mapped back to line:column.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expectError, expectOnly } from './expect.js';

const Y = 'spec.yml';
const yaml = (...lines: string[]) => lines.join('\n') + '\n';

test('misspelt key: did you mean', () => {
  const d = expectError(yaml('loss:', '  temprature: 0.1'), 'E0102', 2, 3, "unknown key 'temprature' in loss; did you mean 'temperature'?", Y);
  assert.is(d.hint, 'temperature');
});
test('wrong enum value', () => void expectError(yaml('optimizer:', '  type: lasr'), 'E0103', 2, 9, "did you mean 'lars'?", Y));
test('unknown layer type', () => void expectError(yaml('encoder:', '  layers:', '    - { type: conv, out: 8 }', '    - { type: rellu }'), 'E0103', 4, 15, "did you mean 'relu'?", Y));
test('out of range', () => void expectError(yaml('train:', '  batch_size: 1'), 'E0104', 2, 15, 'train.batch_size must be >= 2', Y));
test('wrong type', () => void expectError(yaml('train:', '  batch_size: lots'), 'E0101', 2, 15, 'must be a whole number', Y));
test('missing required field', () => void expectError(yaml('encoder:', '  layers:', '    - type: conv', '      kernel: 3'), 'E0105', 3, 7, "missing required field 'out'", Y));
test('YAML syntax error: unclosed flow mapping', () => void expectOnly(yaml('data: { source: mnist', 'train: { steps: 10 }'), ['E0006@2:1'], Y));
test('YAML syntax error: stray indentation, one message', () => void expectOnly(yaml('data:', '  source: mnist', ' limit: 3'), ['E0006@3:1'], Y));
test('duplicate key', () => void expectError(yaml('data:', '  limit: 1', '  limit: 2'), 'E0005', 3, 3, undefined, Y));
test('unknown stdlib preset', () => void expectError(yaml('encoder:', '  use: xresnet81'), 'E0201', 2, 8, "did you mean 'xresnet18'?", Y));
test('augment size larger than the images', () => void expectError(yaml('augment:', '  size: 64'), 'E0301', 2, 9, undefined, Y));
test('a spec must be a mapping', () => void expectError('- data\n', 'E0101', 1, 1, 'mapping', Y));
test('several errors in one file are all reported', () => {
  expectOnly(yaml('data:', '  sorce: mnist', 'loss: { temperature: -1 }', 'optimizer: { type: adam }', 'train: { batch_size: x }'), ['E0102@2:3', 'E0104@3:22', 'E0103@4:20', 'E0101@5:22'], Y);
});

test.run();
