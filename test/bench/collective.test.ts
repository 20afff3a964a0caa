import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collectiveSuite, type CollectiveRow } from '../../src/bench/collective.js';
import { requireMpi } from '../dist/mpi-run.js';

test('bench collective --quick: launches itself on 2 processes; an all-reduce and an all-gather row per size', async () => {
  requireMpi();
  const rows: CollectiveRow[] = [];
  await collectiveSuite.run({ repeats: 1, quick: true }, (row) => rows.push(row as CollectiveRow));
  assert.equal(rows.map((r) => [r.op, r.bytes]), [
    ['all_reduce', 65536],
    ['all_gather', 65536],
    ['all_reduce', 1048576],
    ['all_gather', 1048576],
  ]);
  for (const r of rows) {
    assert.is(r.bench, 'collective');
    assert.is(r.processes, 2);
    assert.ok(r.median_ms > 0 && r.min_ms <= r.median_ms && r.median_ms <= r.max_ms, JSON.stringify(r));
    // Bandwidths are the bytes over the median time; the bus figure is the link's share of it.
    const algbw = r.bytes / (r.median_ms * 1e6);
    assert.ok(Math.abs(r.algbw_gb_s - algbw) <= 1e-3 + 1e-2 * algbw, `algbw ${r.algbw_gb_s} vs ${algbw}`);
    const share = r.op === 'all_reduce' ? 1 : 0.5;
    assert.ok(Math.abs(r.busbw_gb_s - r.algbw_gb_s * share) <= 2e-3, `busbw ${r.busbw_gb_s}`);
  }
});

test.run();
