// Synthesizes the model routers test_model_router.py runs into the folder given as the only
// argument, one manifest per chart (<chart>.k8s.yaml): a router with a shadow and a fallback, and
// one with the fallback alone, for the fixture model below.
// Usage: tsx test/runtime/synth-model-router.ts <output folder>
import { App, Chart } from 'cdk8s';
import { ModelRouter, ModelRouterProps } from '../../charts/lib/model-router';

const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: tsx test/runtime/synth-model-router.ts <output folder>');
  process.exit(2);
}

const service = (version: string) => ({ version, host: `fraud-scorer-${version}.fraud.svc.cluster.local`, port: 80 });
const ROUTER: ModelRouterProps = {
  name: 'fraud-scorer-router',
  namespace: 'fraud',
  image: 'model-router:runtime-tier',
  primary: service('v7'),
  fallback: service('v6'),
  shadow: { ...service('v9'), percent: 10 },
  // A hung primary is given up on after a second, so that the test of it takes one.
  timeouts: { responseMilliseconds: 1000 },
};

const app = new App({ outdir });
new ModelRouter(new Chart(app, 'router', { disableResourceNameHashes: true }), 'Router', ROUTER);
new ModelRouter(new Chart(app, 'router-without-shadow', { disableResourceNameHashes: true }), 'Router', { ...ROUTER, shadow: undefined });
app.synth();
