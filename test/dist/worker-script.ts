// One rank of the multi-process tests, started by mpirun from collectives.test.ts. It prints one JSON
// line per result; the test computes what every rank should have printed. Output goes through
// writeSync: a pipe written with process.stdout is flushed later, and the `loop` mode never yields.
import { writeSync } from 'node:fs';
import { openCollectives, type Collectives } from '../../src/dist/collectives.js';
import { allGatherBackward } from '../../src/dist/gather.js';

const say = (row: Record<string, unknown>) => writeSync(1, JSON.stringify(row) + '\n');

function collectives(c: Collectives): void {
  const { rank, size } = c;
  const root = size - 1;
  const f32 = new Float32Array(3);
  if (rank === root) f32.set([1.5, -2, 3.25]);
  c.broadcast(f32, root);
  const bytes = new Uint8Array(5);
  if (rank === 1) bytes.set([7, 8, 9, 250, 1]);
  c.broadcast(bytes, 1);
  const sum = Float32Array.from({ length: 5 }, (_, i) => (rank + 1) * (i + 1) + 0.5 * rank);
  c.allReduceSum(sum);
  // 4 MiB: large enough for Open MPI's large-message path, not only its eager one.
  const big = Float32Array.from({ length: 1 << 20 }, (_, i) => (rank + 1) * ((i % 7) + 1));
  c.allReduceSum(big);
  let bigTotal = 0;
  for (const v of big) bigTotal += v;
  const into = new Float32Array(3 * size);
  const gathered = c.allGather(Float32Array.from({ length: 3 }, (_, i) => rank * 10 + i), into);
  const scatteredInto = new Float32Array(2);
  const scattered = c.reduceScatterSum(Float32Array.from({ length: 2 * size }, (_, j) => rank * 100 + j), scatteredInto);
  c.barrier();
  say({
    rank,
    size,
    localRank: c.localRank,
    broadcastF32: [...f32],
    broadcastBytes: [...bytes],
    allReduce: [...sum],
    big: { head: big[0], at12345: big[12345], tail: big[big.length - 1], total: bigTotal },
    allGather: [...gathered],
    reduceScatter: [...scattered],
    intoGiven: gathered === into && scattered === scatteredInto,
  });
}

// The per-rank loss of the backward test and its gradient with respect to the gathered vector.
// Weights differ by rank, so each rank's gradient on a given key differs and the sum matters.
const N_LOCAL = 3;
function loss(p: number, g: Float64Array | Float32Array): { value: number; grad: Float64Array } {
  const w = (j: number) => 0.1 * (p + 1) + 0.05 * j;
  const cw = (j: number) => (j % 4) - 1.5;
  let quad = 0;
  let dot = 0;
  for (let j = 0; j < g.length; j++) {
    quad += w(j) * g[j] * g[j];
    dot += cw(j) * g[j];
  }
  const k = p % g.length;
  const value = quad + 0.1 * (p + 1) * dot * dot + Math.sin(g[k]);
  const grad = new Float64Array(g.length);
  for (let j = 0; j < g.length; j++) grad[j] = 2 * w(j) * g[j] + 0.2 * (p + 1) * dot * cw(j);
  grad[k] += Math.cos(g[k]);
  return { value, grad };
}

function backward(c: Collectives): void {
  const { rank, size } = c;
  // Multiples of 1/16, with a step of 1/256: x ± h is exact in f32, so the finite differences see
  // exactly the perturbation the test divides by.
  const x = Float32Array.from({ length: N_LOCAL }, (_, i) => (rank * N_LOCAL + i + 1) / 16 - 0.5);
  const h = 1 / 256;
  const gathered = c.allGather(x);
  const own = loss(rank, gathered).grad;
  const grad = allGatherBackward(c, Float32Array.from(own));
  // Every rank walks the same perturbations in lockstep; only the owner of the coordinate moves it.
  const perturbed: number[][] = [];
  for (let owner = 0; owner < size; owner++) {
    for (let i = 0; i < N_LOCAL; i++) {
      const pair: number[] = [];
      for (const s of [1, -1]) {
        const local = x.slice();
        if (owner === rank) local[i] += s * h;
        pair.push(loss(rank, c.allGather(local)).value);
      }
      perturbed.push(pair);
    }
  }
  say({ rank, h, grad: [...grad], ownCopy: [...own.subarray(rank * N_LOCAL, (rank + 1) * N_LOCAL)], perturbed });
}

function loop(c: Collectives): void {
  say({ rank: c.rank, pid: process.pid });
  const data = new Float32Array(1024);
  for (let step = 0; ; step++) {
    c.barrier();
    data.fill(c.rank);
    c.allReduceSum(data);
    if (step === 3) say({ rank: c.rank, looping: true });
  }
}

const modes: Record<string, (c: Collectives) => void> = { collectives, backward, loop };
const mode = modes[process.argv[2]];
if (!mode) throw new Error(`worker-script: unknown mode ${process.argv[2]}; known: ${Object.keys(modes).join(', ')}`);
const c = await openCollectives();
mode(c);
c.finalize();
