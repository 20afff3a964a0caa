import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Golden vectors come from GOLDEN_DIR when set (same file names), else test/golden/. */
export function golden<T = any>(name: string): T {
  const dir = process.env.GOLDEN_DIR ?? join(process.cwd(), 'test', 'golden');
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
}

/** One case of ntxent.json: z is 2N×D row-major (view one's rows first), grad is ∂loss/∂z. */
export interface NtxentCase {
  n: number;
  d: number;
  temperature: number;
  z: number[];
  loss: number;
  grad: number[];
}
