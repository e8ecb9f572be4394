import { selectEnvironments } from '../../../lib/config/selection';
import { fixtureEnvironment, MINIMAL_ENVIRONMENT } from '../../helpers/app';

const environments = ['dev', 'staging', 'prod'].map((name) =>
  fixtureEnvironment({ ...MINIMAL_ENVIRONMENT, mlflow: { hostname: `mlflow.${name}.example.internal` } }, name),
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
