import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const file = fileURLToPath(new URL('../../../deploy/kubernetes/mpijob.yaml', import.meta.url));

test('the MPIJob: v2beta1, a launcher running mpirun over simclr-compile run, two one-GPU workers', () => {
  const job = parse(readFileSync(file, 'utf8'));
  assert.is(job.apiVersion, 'kubeflow.org/v2beta1');
  assert.is(job.kind, 'MPIJob');
  const { Launcher, Worker } = job.spec.mpiReplicaSpecs;
  assert.is(Launcher.replicas, 1);
  assert.is(Worker.replicas, 2);
  const launcher = Launcher.template.spec.containers[0];
  const worker = Worker.template.spec.containers[0];
  for (const c of [launcher, worker]) assert.is(c.image, 'simclr-compile:latest');
  const argv = [...launcher.command, ...launcher.args];
  assert.is(argv[0], 'mpirun');
  // As many processes as worker slots, and the training command with the mounted spec.
  assert.is(Number(argv[argv.indexOf('-np') + 1]), Worker.replicas * job.spec.slotsPerWorker);
  const run = argv.indexOf('simclr-compile');
  assert.equal(argv.slice(run, run + 3), ['simclr-compile', 'run', '/specs/spec.simclr']);
  assert.is(worker.resources.limits['nvidia.com/gpu'], 1);
  assert.is(job.spec.slotsPerWorker, 1, 'one process, so one GPU, per worker');
  const mount = worker.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/specs');
  assert.ok(mount, 'the spec is mounted at /specs on the workers, where the processes run');
  assert.ok(Worker.template.spec.volumes.some((v: { name: string }) => v.name === mount.name));
});

test.run();
