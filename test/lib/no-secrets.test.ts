import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedTemplate } from '../helpers/committed-assembly';
import { secretLiterals } from '../helpers/secrets';

describe('templates', () => {
  test.each(ENVIRONMENTS)('of %s hold no password or secret literal', (name) => {
    for (const id of STACK_IDS) {
      expect(secretLiterals(committedTemplate(name, id).toJSON())).toEqual([]);
    }
  });

  test.each(ENVIRONMENTS)('of %s give the database password only as a Secrets Manager reference', (name) => {
    const instance = Object.values(committedTemplate(name, 'Data').findResources('AWS::RDS::DBInstance'))[0];
    expect(JSON.stringify(instance.Properties.MasterUserPassword)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",/);
  });

  test('the check finds a literal password and an access key', () => {
    expect(
      secretLiterals({ Resources: { Db: { Properties: { MasterUserPassword: 'hunter22', Note: 'AKIAABCDEFGHIJKLMNOP' } } } }),
    ).toHaveLength(2);
  });
});
