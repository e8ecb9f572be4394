/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
    // The ESM-only packages below ship .js files that must become CommonJS for Jest.
    '^.+\\.js$': ['@swc/jest'],
  },
  // kubernetes-models, @kubernetes-models/* and is-cidr with cidr-regex (which they load) are
  // ESM-only, so they are compiled like the tests; the resolver finds the packages whose
  // exports offer only "import".
  resolver: '<rootDir>/test/jest-resolver.cjs',
  transformIgnorePatterns: ['/node_modules/(?!(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex)/)'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // The scratch folder in which the committed environments are synthesized once for every test
  // file (test/helpers/committed-assembly.ts), removed after the run.
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // One worker per core. Jest's default leaves a core to its parent process, which idles, so on
  // the 2-core machines every file ran in turn. The compliance test is started first (see the
  // sequencer) and takes one worker for most of the run while the other runs everything else.
  maxWorkers: '100%',
  testSequencer: '<rootDir>/test/sequencer.cjs',
  // Full synths with every policy pack take several seconds on a 2-core machine.
  testTimeout: 120000,
};
