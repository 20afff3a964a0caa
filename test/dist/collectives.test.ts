import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { launchedUnderMpi, openCollectives, SingleProcess } from '../../src/dist/collectives.js';
import { allGatherBackward } from '../../src/dist/gather.js';
import { runRanks, startRanks } from './mpi-run.js';

test('a single process needs no MPI: openCollectives outside mpirun never loads the addon or libmpi', async () => {
  assert.not.ok(launchedUnderMpi({}));
  assert.ok(launchedUnderMpi({ OMPI_COMM_WORLD_SIZE: '2' }));
  assert.ok(launchedUnderMpi({ PMIX_RANK: '0' }));
  const c = await openCollectives({});
  assert.instance(c, SingleProcess);
  const x = Float32Array.of(1, 2, 3);
  c.allReduceSum(x);
  assert.equal([...x], [1, 2, 3]);
  assert.equal([...c.allGather(x)], [1, 2, 3]);
  assert.equal([...allGatherBackward(c, Float32Array.of(4, 5))], [4, 5]);
  const maps = readFileSync('/proc/self/maps', 'utf8');
  assert.not.ok(/libmpi|mpi\.node/.test(maps), 'libmpi or the addon was mapped into a single process');
});

for (const np of [2, 3]) {
  test(`every collective on rank-dependent data, ${np} processes`, () => {
    const rows = runRanks(np, 'collectives');
    assert.equal(rows.map((r) => r.rank), [...Array(np).keys()]);
    const ranks = [...Array(np).keys()];
    const allReduce = [0, 1, 2, 3, 4].map((i) => ranks.reduce((s, r) => s + (r + 1) * (i + 1) + 0.5 * r, 0));
    const tri = (np * (np + 1)) / 2; // Σ (r + 1)
    const bigAt = (i: number) => tri * ((i % 7) + 1);
    let bigTotal = 0;
    for (let i = 0; i < 1 << 20; i++) bigTotal += bigAt(i);
    const allGather = ranks.flatMap((r) => [0, 1, 2].map((i) => r * 10 + i));
    for (const row of rows) {
      const r = row.rank as number;
      assert.is(row.size, np);
      // One host: the local rank is the world rank.
      assert.is(row.localRank, r);
      assert.equal(row.broadcastF32, [1.5, -2, 3.25], `rank ${r} broadcast f32`);
      assert.equal(row.broadcastBytes, [7, 8, 9, 250, 1], `rank ${r} broadcast bytes`);
      assert.equal(row.allReduce, allReduce, `rank ${r} all-reduce`);
      assert.equal(row.big, { head: bigAt(0), at12345: bigAt(12345), tail: bigAt((1 << 20) - 1), total: bigTotal }, `rank ${r} 4 MiB all-reduce`);
      assert.equal(row.allGather, allGather, `rank ${r} all-gather`);
      const scatter = [0, 1].map((k) => ranks.reduce((s, p) => s + p * 100 + r * 2 + k, 0));
      assert.equal(row.reduceScatter, scatter, `rank ${r} reduce-scatter`);
      assert.ok(row.intoGiven, `rank ${r}: all-gather and reduce-scatter wrote into the buffers given`);
    }
  });
}

test('all-gather backward equals finite differences of the summed per-rank losses, 2 processes', () => {
  const rows = runRanks(2, 'backward');
  const h = rows[0].h as number;
  // Row k of `perturbed` moves coordinate k of the gathered vector (owner k / n, element k % n); the
  // total loss is the sum of every rank's loss, so its difference quotient sums over ranks.
  const n = rows[0].grad.length as number;
  const fd = rows[0].perturbed.map((_: number[], k: number) => rows.reduce((s, row) => s + (row.perturbed[k][0] - row.perturbed[k][1]), 0) / (2 * h));
  for (const row of rows) {
    const mine = fd.slice(row.rank * n, (row.rank + 1) * n);
    row.grad.forEach((g: number, i: number) => {
      assert.ok(Math.abs(g - mine[i]) <= 2e-4 * (1 + Math.abs(mine[i])), `rank ${row.rank} x[${i}]: backward ${g}, finite difference ${mine[i]}`);
    });
  }
  // The mistake the backward guards against, keeping only this rank's own copy of its keys' gradient,
  // is far from the finite differences here: the comparison above tells the two apart.
  for (const row of rows) {
    const mine = fd.slice(row.rank * n, (row.rank + 1) * n);
    const off = Math.max(...row.ownCopy.map((g: number, i: number) => Math.abs(g - mine[i])));
    assert.ok(off > 0.05, `rank ${row.rank}: its own copy's gradient is within ${off} of the total`);
  }
});

test('one process killed with -9: the job ends within 10 s, mpirun exits non-zero naming the dead rank', async () => {
  const job = startRanks(2, 'loop');
  try {
    const pids = await job.waitFor((r) => typeof r.pid === 'number', 2, 60_000);
    await job.waitFor((r) => r.looping === true, 2, 60_000);
    const victim = pids.find((r) => r.rank === 1)!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000));
    const result = await Promise.race([job.exited, timeout]);
    assert.ok(result !== 'timeout', `the job still ran 10 s after rank 1 was killed\n${job.output()}`);
    assert.ok(result.code !== 0, `mpirun exited ${result.code}`);
    assert.ok(result.at - killedAt < 10_000);
    assert.match(job.output(), /rank 1/, 'mpirun names the dead rank');
    // The survivor did not go on after its peer died: it is gone, or dead and not yet reaped (a
    // zombie) by the init process it was handed to when mpirun exited.
    const survivor = pids.find((r) => r.rank === 0)!;
    assert.ok(!isRunning(survivor.pid), `rank 0 (pid ${survivor.pid}) still runs after mpirun exited`);
  } finally {
    job.kill();
  }
});

function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test.run();
