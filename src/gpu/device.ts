// Acquires the one WebGPU device a process uses, through Dawn (npm `webgpu`).
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** lavapipe / llvmpipe and other CPU rasterisers: kernels pick CPU-friendly variants there. */
  isSoftware: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface Gpu {
  device: GPUDevice;
  /** Dawn tears the device down when its instance is collected: hold both for the process's life. */
  keepAlive: unknown[];
  adapter: AdapterSummary;
  hasF16: boolean;
}

export const NO_ADAPTER_FIX =
  'Dawn found no WebGPU adapter. On a machine without a GPU, install Mesa lavapipe 25.x from ' +
  'Debian bookworm-backports (`npm run setup` does this; by hand: add bookworm-backports to apt ' +
  'sources, then `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`). ' +
  "Bookworm's own Mesa 22.3 is too old for Dawn. `simclr-compile doctor` shows what was found.";

export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(`${NO_ADAPTER_FIX}${detail ? `\n${detail}` : ''}`);
    this.name = 'NoAdapterError';
  }
}

/**
 * Lavapipe JIT-compiles every pipeline on first use (0.05–5 s each); Mesa's disk cache makes the
 * second run of the same kernels nearly free. It lives in the user's cache folder, so every checkout
 * and every run shares it, and must be set before the Vulkan driver loads.
 */
export function useShaderCache(): string {
  const dir = process.env.MESA_SHADER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'simclr-compile', 'mesa-shaders');
  mkdirSync(dir, { recursive: true });
  process.env.MESA_SHADER_CACHE_DIR = dir;
  process.env.MESA_SHADER_CACHE_MAX_SIZE ??= '2G';
  return dir;
}

let acquiring: Promise<Gpu> | undefined;

/** The process-wide device, created on first call with the adapter's real limits. */
export function acquireGpu(): Promise<Gpu> {
  acquiring ??= open();
  return acquiring;
}

async function open(): Promise<Gpu> {
  useShaderCache();
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (err) {
    throw new NoAdapterError(`The npm package \`webgpu\` could not be loaded: ${(err as Error).message}`);
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  const adapter = await quietly(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
  if (!adapter) throw new NoAdapterError(vulkanReport().join('\n'));
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  const features = [...adapter.features].map(String).sort();
  const wanted = ['shader-f16', 'timestamp-query'].filter((f) => features.includes(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits: limits, requiredFeatures: wanted });
  const info = adapter.info;
  const description = info.description ?? '';
  return {
    device,
    keepAlive: [gpu, adapter],
    hasF16: wanted.includes('shader-f16'),
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description,
      isSoftware: /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.architecture} ${description} ${info.device}`),
      features,
      limits,
    },
  };
}

const STDIO_ADDON = fileURLToPath(new URL('../../../native/stdio/build/Release/stdio.node', import.meta.url));

/**
 * Dawn writes start-up warnings about limits it lowers ("… artificially reduced …") to fd 2 from
 * native code while an adapter is requested: nothing a user can act on. With the small addon
 * `npm run setup` builds, fd 2 points at /dev/null meanwhile; without it the warnings show.
 */
async function quietly<T>(request: () => Promise<T>): Promise<T> {
  if (process.env.SIMCLR_DEBUG || !existsSync(STDIO_ADDON)) return request();
  const stdio = createRequire(import.meta.url)(STDIO_ADDON) as { mute(): number; restore(fd: number): void };
  const saved = stdio.mute();
  try {
    return await request();
  } finally {
    stdio.restore(saved);
  }
}

/** What the Vulkan loader can see: the usual reasons Dawn finds no adapter on Linux. */
export function vulkanReport(): string[] {
  if (process.platform !== 'linux') return [];
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
  const icdDir = '/usr/share/vulkan/icd.d';
  const icds = existsSync(icdDir) ? readdirSync(icdDir) : [];
  return [
    `Vulkan loader (libvulkan1): ${loader.some((p) => existsSync(p)) ? 'present' : 'missing'}`,
    `Vulkan drivers in ${icdDir}: ${icds.length ? icds.join(', ') : 'none'}`,
  ];
}
