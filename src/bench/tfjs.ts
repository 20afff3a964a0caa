// TensorFlow.js on the webgpu backend, for the bench suites that compare against it.
import { runtime } from '../gpu/runtime.js';

export type Tf = typeof import('@tensorflow/tfjs');

let tfReady: Promise<Tf> | undefined;

/**
 * TensorFlow.js on the runtime's own device. A second device of the same Dawn adapter in one
 * process ran the same kernels 1.3–2× slower than the first, which would flatter every comparison
 * made against TF.js; on one device both sides run under the same conditions.
 */
export function loadTf(): Promise<Tf> {
  tfReady ??= (async () => {
    const rt = await runtime(); // assigns the webgpu globals
    // The union package's Node build is the one that registers tfjs-core's gradients.
    const tf = await import('@tensorflow/tfjs');
    // Imported before navigator.gpu exists, the package registers no webgpu backend of its own
    // (that one would open a device); the backend only checks navigator.gpu is there.
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: rt.gpu.keepAlive[0] }, configurable: true });
    const { vendor, architecture } = rt.gpu.adapter;
    tf.registerBackend('webgpu', () => new WebGPUBackend(rt.device, { vendor, architecture } as GPUAdapterInfo));
    if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
    await tf.ready();
    return tf;
  })();
  return tfReady;
}
