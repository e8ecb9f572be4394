import { selectEnvironments } from '../../../lib/config/selection';
import { fixtureEnvironment } from '../../helpers/app';

const MINIMAL = {
  environmentType: 'development',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  cluster: { addons: { 'metrics-server': 'v0.8.0-eksbuild.2' } },
};
const environments = ['dev', 'staging', 'prod'].map((name) =>
  fixtureEnvironment({ ...MINIMAL, mlflow: { hostname: `mlflow.${name}.example.internal` } }, name),
);
const names = (selection: ReturnType<typeof selectEnvironments>) => (selection.ok ? selection.environments.map((config) => config.name) : selection.message);

describe('selectEnvironments', () => {
  test('selects every environment when none is named', () => {
    expect(names(selectEnvironments(environments, undefined))).toEqual(['dev', 'staging', 'prod']);
    expect(names(selectEnvironments(environments, ''))).toEqual(['dev', 'staging', 'prod']);
  });

  test('selects the named environments, from a comma-separated list', () => {
    expect(names(selectEnvironments(environments, 'prod, dev'))).toEqual(['dev', 'prod']);
  });

  test('refuses an unknown name in one line naming it and the environments there are', () => {
    expect(selectEnvironments(environments, 'prod,prd')).toEqual({
      ok: false,
      message: 'environments: no environment named "prd"; the config folder has dev, staging, prod',
    });
  });
});
