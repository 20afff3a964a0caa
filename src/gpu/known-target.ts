// The last adapter's limits, kept in the user's cache folder: `check` and the language server judge
// whether a step fits the device without opening one (an editor must never wait on a GPU), and the
// file follows the adapter, since every process that opens one rewrites it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Target } from '../kernels/op.js';

export function knownTargetFile(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'simclr-compile', 'adapter-limits.json');
}

/** Records the target of the adapter this process opened; a cache folder that cannot be written only costs the record. */
export function rememberTarget(target: Target, description: string): void {
  const file = knownTargetFile();
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Processes of one job start together: a renamed whole file is never read half-written.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify({ description, target }));
    renameSync(partial, file);
  } catch {
    // A read-only home keeps `check` from knowing the limits; nothing else depends on the record.
  }
}

/** The recorded target and the adapter it came from, or undefined when none was recorded (or it is unreadable). */
export function knownTarget(): { target: Target; description: string } | undefined {
  try {
    const record = JSON.parse(readFileSync(knownTargetFile(), 'utf8')) as { description?: unknown; target?: Partial<Target> };
    const t = record.target;
    if (!t || typeof t.maxStorageBufferBindingSize !== 'number' || typeof t.maxWorkgroupInvocations !== 'number' || typeof t.maxWorkgroupsPerDimension !== 'number') return undefined;
    return {
      description: typeof record.description === 'string' ? record.description : 'the last adapter',
      target: {
        isSoftware: !!t.isSoftware,
        hasF16: !!t.hasF16,
        maxWorkgroupInvocations: t.maxWorkgroupInvocations,
        maxStorageBufferBindingSize: t.maxStorageBufferBindingSize,
        maxWorkgroupsPerDimension: t.maxWorkgroupsPerDimension,
        ...(typeof t.maxBufferSize === 'number' ? { maxBufferSize: t.maxBufferSize } : {}),
      },
    };
  } catch {
    return undefined;
  }
}
