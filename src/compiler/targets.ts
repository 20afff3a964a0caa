// The targets `compile` can plan for without a device (the adapter's own is src/cli/target.ts's).
import type { Target } from '../kernels/op.js';

/** A typical discrete GPU: wide workgroups, workgroup-memory tiles pay off. */
export const DISCRETE_TARGET: Target = {
  isSoftware: false,
  hasF16: true,
  maxWorkgroupInvocations: 1024,
  maxStorageBufferBindingSize: 1 << 30,
  maxWorkgroupsPerDimension: 65535,
};
