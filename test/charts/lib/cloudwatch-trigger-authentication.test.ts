import { Chart } from 'cdk8s';
import { CloudWatchTriggerAuthentication } from '../../../charts/lib/cloudwatch-trigger-authentication';
import { chartTestApp } from '../../helpers/chart-app';
import { KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObject } from '../../helpers/kubernetes-schema';

function render(): KubeObject {
  const chart = new Chart(chartTestApp(), 'test');
  new CloudWatchTriggerAuthentication(chart, 'CloudWatch', { name: 'aws-cloudwatch' });
  return chart.toJson()[0] as KubeObject;
}

describe('CloudWatchTriggerAuthentication', () => {
  test('is one cluster-wide KEDA authentication, usable from every namespace', () => {
    const authentication = render();
    expect(authentication).toMatchObject({ apiVersion: 'keda.sh/v1alpha1', kind: 'ClusterTriggerAuthentication', metadata: { name: 'aws-cloudwatch' } });
    expect(authentication.metadata.namespace).toBeUndefined();
  });

  test("calls AWS as KEDA's operator, through its Pod Identity credentials, with no stored secret and no other role", () => {
    expect(render().spec).toEqual({ podIdentity: { provider: 'aws', identityOwner: 'keda' } });
  });

  test('matches the KEDA ClusterTriggerAuthentication schema', () => {
    const authentication = render();
    expect(() => validateKubernetesObject(authentication)).not.toThrow();
    expect(() => validateKubernetesObject({ ...authentication, spec: { podIdentity: { provider: 'aws', identityOwner: 'pod' } } })).toThrow(
      /podIdentity\/identityOwner/,
    );
  });
});
