const path = require('node:path');

// Jest's own sequencer, found through the packages that depend on it rather than by hoisting.
const resolveFrom = (base, request) => require.resolve(request, { paths: [path.dirname(base)] });
const defaultSequencer = ['jest', '@jest/core', 'jest-config', '@jest/test-sequencer'].reduce(resolveFrom, __filename);
const Sequencer = require(defaultSequencer).default;

/**
 * Files that take most of a run, started first so that they run beside everything else. The
 * compliance test synthesizes every environment with built-in validation, cdk-nag and cfn-guard:
 * it is the longest file, and a fresh clone has no timings for Jest to order by.
 */
const FIRST = ['test/lib/compliance.test.ts'].map((file) => path.join(__dirname, '..', file));

/** Jest's order (failed last time, then slowest first), with FIRST ahead of the rest. */
class LongestFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (test) => (FIRST.includes(test.path) ? 0 : 1);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirst;
