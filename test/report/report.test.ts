// A tiny run end to end: its report renders in headless Chromium without console errors and with
// every section filled; the checkpoint's encoder tensors have PyTorch names and layouts; embed writes
// features and labels that other tools can read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { EncoderLayer } from '../../src/ir/model-spec.js';
import { loadSpecFile } from '../../src/spec/index.js';
import { readCheckpoint } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { writeReport } from '../../src/report/report.js';
import { runtime } from '../../src/gpu/runtime.js';

const quiet = { write: () => true };
const dir = mkdtempSync(join(tmpdir(), 'simclr-report-'));
const SECTIONS = ['curves', 'augmentations', 'neighbours', 'embedding', 'per-class', 'spec', 'summary'];

test.before(async () => {
  const loaded = loadSpecFile('test/fixtures/tiny-run.simclr', { set: ['train.epochs=2'] });
  assert.ok(loaded.spec);
  await train(loaded.spec, { out: dir, out_stream: quiet, jsonOut: quiet });
  await writeReport(await runtime(), dir);
});

test('report.html: Chromium renders every section with no console error', async () => {
  const file = join(dir, 'report.html');
  assert.ok(existsSync(file), 'the report was written');
  const html = readFileSync(file, 'utf8');
  assert.not.match(html, /<script|https?:\/\/|<link/i, 'self-contained: no scripts, links or addresses');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
    await page.goto(`file://${file}`);
    for (const id of SECTIONS) {
      const filled = await page.evaluate((i) => {
        const el = document.getElementById(i);
        return el ? el.querySelectorAll('img,svg,table,pre').length : -1;
      }, id);
      assert.ok(filled > 0, `section #${id}: ${filled < 0 ? 'missing' : 'no content'}`);
    }
    // 12 queries × (1 + 8 trained + 8 random-init) images, each a decoded PNG.
    const images = await page.evaluate(() => [...document.querySelectorAll('#neighbours img')].map((i) => (i as HTMLImageElement).naturalWidth));
    assert.is(images.length, 12 * 17);
    assert.ok(images.every((w) => w === 12), 'every neighbour image decodes at the data size');
    const dots = await page.evaluate(() => document.querySelectorAll('#embedding circle').length);
    assert.is(dots, 96, 'one dot per test image');
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    console.log(`report screenshot: ${join(dir, 'report.png')}`);
    assert.equal(errors, []);
    assert.equal(requests, []);
  } finally {
    await browser.close();
  }
});

test('checkpoint encoder tensors: state_dict names, conv OIHW, linear out×in, batchnorm per channel', () => {
  const spec = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8'));
  const tensors = readCheckpoint(join(dir, 'checkpoint.safetensors')).tensors;
  const want: Record<string, number[]> = {};
  let channels = spec.encoder.in_channels;
  const walk = (layers: EncoderLayer[], path: string) =>
    layers.forEach((l, k) => {
      const name = `${path}.${k}`;
      if (l.type === 'conv') {
        want[`${name}.weight`] = [l.out, channels, l.kernel ?? 3, l.kernel ?? 3];
        channels = l.out;
      } else if (l.type === 'batchnorm') for (const p of ['weight', 'bias', 'running_mean', 'running_var']) want[`${name}.${p}`] = [channels];
      else if (l.type === 'residual') walk(l.body, `${name}.body`);
    });
  walk(spec.encoder.layers, 'encoder.layers');
  assert.ok(Object.keys(want).length >= 10);
  for (const [name, shape] of Object.entries(want)) assert.equal(tensors[name]?.shape, shape, name);
  const features = 2 * channels;
  assert.equal(tensors['projector.0.weight']?.shape, [spec.projector.hidden, features], 'nn.Linear weight is out × in');
  // Besides the module's tensors the checkpoint holds the optimizer's moments (NAME.exp_avg…).
  const encoderNames = Object.keys(tensors).filter((n) => /^encoder\..*\.(weight|bias|running_mean|running_var)$/.test(n));
  assert.equal(encoderNames.filter((n) => !(n in want)), [], 'no encoder tensor outside the state_dict names');
});

function npy(path: string): { descr: string; shape: number[]; body: Buffer } {
  const bytes = readFileSync(path);
  assert.is(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const length = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + length).toString('latin1');
  assert.is((10 + length) % 64, 0, 'header padded to 64 bytes');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((s) => s.trim()).map(Number);
  return { descr: /'descr': '([^']+)'/.exec(header)![1], shape, body: bytes.subarray(10 + length) };
}

test('embed writes the same features as .npy (with labels beside) and as safetensors', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/simclr-compile.js', 'embed', dir, ...args], { encoding: 'utf8' });
  const a = cli('--limit', '10', '--out', join(dir, 'f.npy'));
  assert.is(a.status, 0, a.stderr);
  const b = cli('--split', 'test', '--limit', '10', '--out', join(dir, 'f.safetensors'));
  assert.is(b.status, 0, b.stderr);
  const f = npy(join(dir, 'f.npy'));
  const labels = npy(join(dir, 'f.labels.npy'));
  assert.equal([f.descr, f.shape], ['<f4', [10, 16]], 'cat_avg_max of 8 channels');
  assert.equal([labels.descr, labels.shape], ['<i4', [10]]);
  const st = decodeSafetensorsF32andI32(readFileSync(join(dir, 'f.safetensors')));
  assert.ok(Buffer.compare(st.features, f.body) === 0, 'the two formats hold the same features');
  assert.ok(Buffer.compare(st.labels, labels.body) === 0);
  const bad = cli('--out', join(dir, 'f.csv'));
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /E0503/);
});

/** The checkpoint reader is F32-only; labels are I32, so the raw bytes are compared instead. */
function decodeSafetensorsF32andI32(bytes: Buffer): Record<'features' | 'labels', Buffer> {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8'));
  assert.is(header.labels.dtype, 'I32');
  const part = (name: string) => bytes.subarray(8 + length + header[name].data_offsets[0], 8 + length + header[name].data_offsets[1]);
  return { features: part('features'), labels: part('labels') };
}

test.run();
