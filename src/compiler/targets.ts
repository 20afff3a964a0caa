// The targets `compile` can plan for without a device: the adapter's own when one is found.
import { SOFTWARE_TARGET, type Target } from '../kernels/op.js';

/** A typical discrete GPU: wide workgroups, workgroup-memory tiles pay off. */
export const DISCRETE_TARGET: Target = {
  isSoftware: false,
  hasF16: true,
  maxWorkgroupInvocations: 1024,
  maxStorageBufferBindingSize: 1 << 30,
  maxWorkgroupsPerDimension: 65535,
};

export type TargetChoice = 'auto' | 'software' | 'discrete';

/** 'auto' asks Dawn for the adapter's real limits, and plans for a software rasteriser when there is none. */
export async function resolveTarget(choice: TargetChoice): Promise<{ target: Target; description: string }> {
  if (choice === 'software') return { target: SOFTWARE_TARGET, description: 'software rasteriser (lavapipe-like)' };
  if (choice === 'discrete') return { target: DISCRETE_TARGET, description: 'discrete GPU' };
  const { runtime } = await import('../gpu/runtime.js');
  try {
    const rt = await runtime();
    const a = rt.gpu.adapter;
    return { target: rt.target, description: `${a.description || a.device} (${a.isSoftware ? 'software' : 'hardware'})` };
  } catch (err) {
    return { target: SOFTWARE_TARGET, description: `software rasteriser (no adapter: ${(err as Error).message.split('\n')[0]})` };
  }
}
