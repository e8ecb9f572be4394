/**
 * Jest looks a `require` up with the "require" export condition, and kubernetes-models and
 * @kubernetes-models/* are ESM-only: their package exports offer "import" and nothing else, so
 * that lookup fails. Such a lookup is retried with "import" added. Packages that do offer
 * "require" never reach the retry, so they keep their CommonJS build. The ESM files found this
 * way are compiled to CommonJS by @swc/jest (see transformIgnorePatterns in jest.config.js).
 *
 * @type {import('jest-resolve').SyncResolver}
 */
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch {
    return options.defaultResolver(request, { ...options, conditions: [...(options.conditions ?? []), 'import'] });
  }
};
