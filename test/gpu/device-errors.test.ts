// A device error reaches the user as one coded line naming what failed, never as Dawn's pages of
// validation text; SIMCLR_DEBUG=1 keeps the whole report for a bug report.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gpuDiagnostic } from '../../src/cli/main.js';
import { GpuError } from '../../src/gpu/runtime.js';

const dawn = new GpuError(
  'WebGPU reported 2 error(s):\nBinding size (268435456) of [Buffer "temp 12"] is larger than the maximum binding size (134217728).\n - While validating entries[3] as a Buffer.\n - While calling [Device].CreateBindGroup([BindGroupDescriptor]).',
);

test('a Dawn report becomes E0405 with its first line only', () => {
  const before = process.env.SIMCLR_DEBUG;
  delete process.env.SIMCLR_DEBUG;
  try {
    const text = gpuDiagnostic(dawn);
    assert.match(text, /^error E0405: the WebGPU device reported an error: WebGPU reported 2 error\(s\):/);
    assert.not.match(text, /\n/, 'one line');
    assert.not.match(text, /While validating|CreateBindGroup/, 'no validation text');
    assert.match(text, /SIMCLR_DEBUG=1/);
  } finally {
    if (before !== undefined) process.env.SIMCLR_DEBUG = before;
  }
});

test('SIMCLR_DEBUG=1 shows the full report after the coded line', () => {
  process.env.SIMCLR_DEBUG = '1';
  try {
    const text = gpuDiagnostic(dawn);
    assert.match(text, /^error E0405: /);
    assert.match(text, /While calling \[Device\]\.CreateBindGroup/);
  } finally {
    delete process.env.SIMCLR_DEBUG;
  }
});

test.run();
