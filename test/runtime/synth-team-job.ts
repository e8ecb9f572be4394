// Synthesizes a team's job as issue 12's batch and training jobs will build it (the MLflow
// credentials init step of charts/lib/mlflow-credentials-init.ts, and a container of the team's own
// image using the HOME it writes), for test_mlflow_accounts.py to run; one manifest, team-job.k8s.yaml.
// Usage: tsx test/runtime/synth-team-job.ts <output folder> <MLflow image> <team secret ARN> <region>
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { mlflowCredentialsInit } from '../../charts/lib/mlflow-credentials-init';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from '../../charts/lib/workload-hardening';
import { TEAM_JOBS_SERVICE_ACCOUNT } from '../../lib/constructs/team-job-identity';

const [outdir, image, secretArn, region] = process.argv.slice(2);
if (!outdir || !image || !secretArn || !region) {
  console.error('usage: tsx test/runtime/synth-team-job.ts <output folder> <MLflow image> <team secret ARN> <region>');
  process.exit(2);
}

const app = new App({ outdir });
const chart = new Chart(app, 'team-job', { disableResourceNameHashes: true });
const credentials = mlflowCredentialsInit({ image, secretArn, region });
const scratch = scratchVolume();
new k8s.KubeJob(chart, 'Job', {
  metadata: { name: 'team-job', namespace: 'fraud' },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        serviceAccountName: TEAM_JOBS_SERVICE_ACCOUNT,
        automountServiceAccountToken: false,
        restartPolicy: 'Never',
        securityContext: restrictedPodSecurityContext(),
        initContainers: [credentials.initContainer],
        containers: [
          {
            name: 'job',
            image: 'team-image:runtime-tier',
            env: credentials.env,
            resources: {
              requests: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('1Gi') },
              limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') },
            },
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [credentials.mount, scratch.mount],
          },
        ],
        volumes: [credentials.volume, scratch.volume],
      },
    },
  },
});
app.synth();
