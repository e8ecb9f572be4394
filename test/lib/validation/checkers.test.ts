import { App } from 'aws-cdk-lib';
import { addPolicyPacks } from '../../../lib/compliance';
import { CHECKERS } from '../../../lib/validation/checkers';

describe('CHECKERS', () => {
  test('names, in order, the checkers addPolicyPacks registers, so the synth summary reports each one', () => {
    const app = new App();
    addPolicyPacks(app, { validationCache: false });

    // aws-cdk-lib keeps an app's plugins here; there is no public getter.
    const plugins = (app as unknown as { _validationPlugins: { name: string }[] })._validationPlugins;

    expect(plugins.map((plugin) => plugin.name)).toEqual(CHECKERS.map((checker) => checker.name));
  });
});
