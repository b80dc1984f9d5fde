// One of the modules under src/cli/library/, the only CLI modules that import from the rest of
// src/ (docs/architecture.md, "Data flows one way"; __test__/architecture.test.ts holds every other
// CLI module to them): what the command line needs of products and machinery, listed module by
// module so that each need is visible in review, and split so that a command loads only what it
// uses (src/cli/main.ts imports each command when it runs).
// The library as `kernelseal bench` uses it: data sets, the machine, the runs and their reports.

export { datasetSpecs } from '../../bench/datasets.js';
export { MASK_SHA_EXTENSIONS } from '../../bench/machine.js';
export { runBench } from '../../bench/run-bench.js';
