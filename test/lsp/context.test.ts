// Cursor context, one line per case: the text with `|` at the cursor → the spec path, the slot
// (key, value of a key, list item, reference) and the tag of the enclosing tagged block.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { specTokens } from '../../src/lsp/frontend.js';
import { blockKeys, simclrContext } from '../../src/lsp/simclr-context.js';
import { yamlContext } from '../../src/lsp/yaml-context.js';

function simclr(marked: string) {
  const at = marked.indexOf('|');
  const ctx = simclrContext(specTokens(marked.slice(0, at) + marked.slice(at + 1)), at);
  return { path: ctx.path, slot: ctx.slot, tag: ctx.tag?.value };
}

function yaml(marked: string) {
  const lines = marked.split('\n');
  const line = lines.findIndex((l) => l.includes('|'));
  const ctx = yamlContext(marked.replace('|', ''), line, lines[line].indexOf('|'));
  return { parent: ctx.parent, key: ctx.key, atKey: ctx.atKey };
}

const cases: [string, ReturnType<typeof simclr>][] = [
  ['|', { path: [], slot: { at: 'key' }, tag: undefined }],
  ['optimizer { | }', { path: ['optimizer'], slot: { at: 'key' }, tag: undefined }],
  ['optimizer: sgd { lr: 0.1  mom| }', { path: ['optimizer'], slot: { at: 'key' }, tag: 'sgd' }],
  ['loss { temperature: | }', { path: ['loss'], slot: { at: 'value', key: 'temperature' }, tag: undefined }],
  ['data { source: mn| }', { path: ['data'], slot: { at: 'value', key: 'source' }, tag: undefined }],
  ['encoder { layers: [ conv { out: 8 }, relu, | ] }', { path: ['encoder', 'layers', 2], slot: { at: 'item' }, tag: undefined }],
  ['encoder { layers: [ conv { out: 8 }, max| ] }', { path: ['encoder', 'layers', 1], slot: { at: 'item' }, tag: undefined }],
  ['encoder { layers: [ relu, residual { body: [ conv { | } ] } ] }', { path: ['encoder', 'layers', 1, 'body', 0], slot: { at: 'key' }, tag: 'conv' }],
  ['augment { views: [ [flip], [ blur { sigma: [0.1, 2] | } ] ] }', { path: ['augment', 'views', 1, 0], slot: { at: 'key' }, tag: 'blur' }],
  ['encoder { use | }', { path: ['encoder'], slot: { at: 'reference', keyword: 'use' }, tag: undefined }],
  ['extends "stdlib/heads/sim|"', { path: [], slot: { at: 'reference', keyword: 'extends' }, tag: undefined }],
  ['# a comment { [\ndata { | ', { path: ['data'], slot: { at: 'key' }, tag: undefined }],
  ['data { } } } train { |', { path: ['train'], slot: { at: 'key' }, tag: undefined }],
];

for (const [text, expected] of cases) {
  test(`.simclr ${JSON.stringify(text)}`, () => assert.equal(simclr(text), expected));
}

const yamlCases: [string, ReturnType<typeof yaml>][] = [
  ['optimizer:\n  type: la|', { parent: ['optimizer'], key: 'type', atKey: false }],
  ['optimizer:\n  |', { parent: ['optimizer'], key: undefined, atKey: true }],
  ['augment:\n  views:\n    - - op: flip\n      - op: blur\n        sig|', { parent: ['augment', 'views', 0, 1], key: undefined, atKey: true }],
  ['encoder:\n  layers:\n  - type: conv\n  - type: relu\n  - |', { parent: ['encoder', 'layers', 2], key: undefined, atKey: true }],
  ['loss: { temperature: 0.1, glo| }', { parent: ['loss'], key: undefined, atKey: true }],
  ['augment: { ops: [ { op: flip }, { op: blur, sigma: | } ] }', { parent: ['augment', 'ops', 1], key: 'sigma', atKey: false }],
  ['data: # where\n  # the images\n  source: |', { parent: ['data'], key: 'source', atKey: false }],
];

for (const [text, expected] of yamlCases) {
  test(`yaml ${JSON.stringify(text)}`, () => assert.equal(yaml(text), expected));
}

const written: [string, string[]][] = [
  ['optimizer { lr: 0.1  |  momentum: 0.9  nested { eps: 1 } }  train { seed: 1 }', ['lr', 'momentum', 'nested']],
  ['data { source: mnist }\nlo|\nloss { temperature: 0.1 }', ['data', 'loss']],
  ['augment { ops: [ | ] }', []],
  ['optimizer: adamw { betas: [0.9, 0.99]  l| }', ['betas']],
];

for (const [marked, keys] of written) {
  test(`keys written around ${JSON.stringify(marked)}`, () => {
    const at = marked.indexOf('|');
    assert.equal([...blockKeys(specTokens(marked.slice(0, at) + marked.slice(at + 1)), at)].sort(), keys.sort());
  });
}

test.run();
