// TensorFlow.js on the webgpu backend, for the bench suites that compare against it.
import { runtime } from '../gpu/runtime.js';

export type Tf = typeof import('@tensorflow/tfjs');

let tfReady: Promise<Tf> | undefined;

/** TensorFlow.js on its own device of the same Dawn adapter (it looks for navigator.gpu). */
export function loadTf(): Promise<Tf> {
  tfReady ??= (async () => {
    await runtime(); // assigns the webgpu globals
    const webgpu = await import('webgpu');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: webgpu.create([]) }, configurable: true });
    // The union package's Node build is the one that registers tfjs-core's gradients.
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its webgpu backend');
    await tf.ready();
    return tf;
  })();
  return tfReady;
}
