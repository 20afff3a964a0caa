// Registration: one line per bench suite.
import type { BenchSuite } from './measure.js';
import { lspSuite } from './lsp.js';
import { kernelsSuite } from './kernels.js';
import { infonceSuite } from './infonce.js';
import { augmentSuite } from './augment.js';
import { trainSuite } from './train.js';
import { collectiveSuite } from './collective.js';

export const suites: BenchSuite[] = [];
suites.push(kernelsSuite);
suites.push(infonceSuite);
suites.push(augmentSuite);
suites.push(trainSuite);
suites.push(lspSuite);
suites.push(collectiveSuite);
