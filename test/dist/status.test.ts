import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mpiStatus } from '../../src/dist/status.js';
import { requireMpi } from './mpi-run.js';

test("doctor's MPI report: usable, and mpirun and the loaded libmpi are the same Open MPI release", () => {
  requireMpi();
  const status = mpiStatus();
  assert.ok(status.usable, status.problem);
  const release = /Open MPI\) (\d+\.\d+\.\d+)/.exec(status.mpirunVersion ?? '')?.[1];
  assert.ok(release, `mpirun --version: ${status.mpirunVersion}`);
  assert.ok(status.library?.startsWith(`Open MPI v${release},`), `libmpi: ${JSON.stringify(status.library)}`);
  assert.not.match(status.library!, /\0/);
});

test.run();
