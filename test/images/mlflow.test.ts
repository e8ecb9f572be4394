import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MLFLOW_IMAGE_DIRECTORY } from '../../lib/constructs/mlflow-server';

const dockerfile = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'Dockerfile'), 'utf8');

describe('the MLflow server image', () => {
  test('pins its base image and every Python package to an exact version, MLflow to a 3.x release', () => {
    expect(dockerfile).toMatch(/^FROM python:\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?$/m);
    expect(dockerfile).toMatch(/"mlflow\[auth\]==3\.\d+\.\d+"/);
    expect(dockerfile).toMatch(/"psycopg2-binary==\d+\.\d+\.\d+"/);
    expect(dockerfile).toMatch(/"boto3==\d+\.\d+\.\d+"/);
    expect(dockerfile).not.toMatch(/pip install[^\n]*\s[a-z0-9-]+(\[[a-z]+\])?\s*$/m);
  });

  test('runs as the numeric non-root user the pods declare, and verifies the database certificate', () => {
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/PGSSLMODE=verify-full/);
  });

  test('sends only the entrypoint to the Docker build', () => {
    expect(fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, '.dockerignore'), 'utf8').split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([
      '*',
      '!entrypoint.py',
    ]);
  });

  test("the entrypoint's own unit tests pass, run with the machine's Python", () => {
    const result = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', MLFLOW_IMAGE_DIRECTORY], { encoding: 'utf8' });
    expect({ status: result.status, output: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, output: '' });
    expect(result.stderr).toMatch(/Ran \d+ tests/);
  });
});
