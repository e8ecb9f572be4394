import * as fs from 'node:fs';
import { committedEnvironment, STACK_IDS, stackOf, testStage, withSettings } from '../helpers/app';

/** CloudFormation's template size limit (bytes, when uploaded to S3) and resource limit. */
const TEMPLATE_LIMIT_BYTES = 1_000_000;
const MAX_TEMPLATE_SHARE = 0.4;
const MAX_RESOURCES = 300;

/** Prod with 20 models: five teams of four, every fourth model on GPUs. */
function prodWithTwentyModels() {
  const prod = committedEnvironment('prod');
  return withSettings('prod', (config) => ({
    ...config,
    teams: Array.from({ length: 5 }, (_, team) => ({
      name: `team-${team + 1}`,
      admins: [`arn:aws:iam::${prod.account}:role/Team${team + 1}Admin`],
      members: [`arn:aws:iam::${prod.account}:role/Team${team + 1}Member`],
      quota: { cpu: 200, memoryGiB: 400, pods: 200, gpus: 20 },
      models: Array.from({ length: 4 }, (_, model) => {
        const base = prod.teams[model === 3 ? 1 : 0].models[0];
        return { ...base, name: `model-${team + 1}-${model + 1}`, exposure: { allowedNamespaces: [] } };
      }),
    })),
  }));
}

describe('a production environment with 20 models', () => {
  const config = prodWithTwentyModels();
  const stage = testStage(config);
  const assembly = stage.synth();

  test('serves all 20', () => {
    expect(config.teams.flatMap((team) => team.models)).toHaveLength(20);
  });

  test.each(STACK_IDS)(`keeps the %s template under ${MAX_TEMPLATE_SHARE * 100} % of 1 MB and ${MAX_RESOURCES} resources`, (id) => {
    const artifact = assembly.getStackByName(stackOf(stage, id).stackName);
    const template = artifact.template;
    // The file the CLI uploads, as written, not a re-serialisation of it.
    const bytes = fs.statSync(artifact.templateFullPath).size;
    expect(bytes).toBeLessThan(TEMPLATE_LIMIT_BYTES * MAX_TEMPLATE_SHARE);
    expect(Object.keys(template.Resources).length).toBeLessThan(MAX_RESOURCES);
  });
});
