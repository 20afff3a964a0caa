// Registration: one line per bench suite.
import type { BenchSuite } from './measure.js';

export const suites: BenchSuite[] = [];
