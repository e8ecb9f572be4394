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
  // Full synths with every policy pack take several seconds on a 2-core machine.
  testTimeout: 120000,
};
