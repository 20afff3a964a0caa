// Which target `compile` plans for: a named one, or ('auto') the adapter's own. Asking for the
// adapter needs the GPU runtime, so the choice is made here, above both compiler and gpu.
import { DISCRETE_TARGET } from '../compiler/targets.js';
import { SOFTWARE_TARGET, type Target } from '../kernels/op.js';

export type TargetChoice = 'auto' | 'software' | 'discrete';

/** 'auto' asks Dawn for the adapter's real limits, and plans for a software rasteriser when there is none. */
export async function resolveTarget(choice: TargetChoice): Promise<{ target: Target; description: string }> {
  if (choice === 'software') return { target: SOFTWARE_TARGET, description: 'software rasteriser (lavapipe-like)' };
  if (choice === 'discrete') return { target: DISCRETE_TARGET, description: 'discrete GPU' };
  // Loaded only here: compiling for a named target never starts Dawn.
  const { runtime } = await import('../gpu/runtime.js');
  try {
    const rt = await runtime();
    const a = rt.gpu.adapter;
    return { target: rt.target, description: `${a.description || a.device} (${a.isSoftware ? 'software' : 'hardware'})` };
  } catch (err) {
    return { target: SOFTWARE_TARGET, description: `software rasteriser (no adapter: ${(err as Error).message.split('\n')[0]})` };
  }
}
