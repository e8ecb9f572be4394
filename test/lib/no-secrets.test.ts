import { Template } from 'aws-cdk-lib/assertions';
import { committedStage, ENVIRONMENTS, STACK_IDS, stackOf } from '../helpers/app';
import { secretLiterals } from '../helpers/secrets';

describe('templates', () => {
  test.each(ENVIRONMENTS)('of %s hold no password or secret literal', (name) => {
    const stage = committedStage(name);
    for (const stack of STACK_IDS.map((id) => stackOf(stage, id))) {
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
