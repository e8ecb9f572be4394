import { Template } from 'aws-cdk-lib/assertions';
import { committedStage, ENVIRONMENTS } from '../helpers/app';
import { secretLiterals } from '../helpers/secrets';

describe('templates', () => {
  test.each(ENVIRONMENTS)('of %s hold no password or secret literal', (name) => {
    const stage = committedStage(name);
    for (const stack of [stage.network, stage.data]) {
      expect(secretLiterals(Template.fromStack(stack).toJSON())).toEqual([]);
    }
  });

  test('the database password is only ever a Secrets Manager reference', () => {
    const instance = Object.values(Template.fromStack(committedStage('prod').data).findResources('AWS::RDS::DBInstance'))[0];
    expect(JSON.stringify(instance.Properties.MasterUserPassword)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",/);
  });

  test('the check finds a literal password and an access key', () => {
    expect(
      secretLiterals({ Resources: { Db: { Properties: { MasterUserPassword: 'hunter22', Note: 'AKIAABCDEFGHIJKLMNOP' } } } }),
    ).toHaveLength(2);
  });
});
