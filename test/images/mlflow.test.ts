import * as fs from 'node:fs';
import * as path from 'node:path';
import { BATCH_SCRIPT_PATH } from '../../charts/lib/batch-inference-cron-job';
import { MLFLOW_IMAGE_DIRECTORY } from '../../lib/constructs/mlflow-server';
import { copiedSources, stagedBuildContext } from '../helpers/image-build-context';

const dockerfile = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'Dockerfile'), 'utf8');
const requirementsIn = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'requirements.in'), 'utf8');
const requirements = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'requirements.txt'), 'utf8');

/** `name==version` of every package a hash-pinned requirements file installs. */
function pinned(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^([a-z0-9][a-z0-9._-]*)==([^\s\\]+)/gim)].map((match) => [match[1].toLowerCase(), match[2]]));
}

describe('the MLflow server image', () => {
  test('pins its base image to the Python minor version the runtime tests run', () => {
    expect(dockerfile).toMatch(/^FROM python:3\.11-slim-[a-z]+(@sha256:[0-9a-f]{64})?$/m);
  });

  test('installs exactly the hash-pinned requirements file the runtime tests install, and nothing else', () => {
    const installs = [...dockerfile.matchAll(/pip install[^\n]*/g)].map((match) => match[0]);
    expect(installs).toEqual(['pip install --no-cache-dir --require-hashes --no-deps -r /opt/mlflow-platform/requirements.txt']);
    expect(dockerfile).toMatch(/^COPY requirements\.txt \/opt\/mlflow-platform\/requirements\.txt$/m);
  });

  test('pins MLflow 3.x with its auth extra, the PostgreSQL driver and boto3, each with hashes', () => {
    expect(requirementsIn).toMatch(/^mlflow\[auth\]==3\.\d+\.\d+$/m);
    const versions = pinned(requirements);
    for (const name of ['mlflow', 'psycopg2-binary', 'boto3', 'flask-wtf']) {
      expect(versions.get(name)).toMatch(/^\d+\.\d+(\.\d+)?/);
    }
    // Every pinned package carries at least one hash, or pip --require-hashes refuses the file.
    const blocks = requirements.split(/\n(?=[a-z0-9])/i).filter((block) => /==/.test(block));
    expect(blocks.length).toBe(versions.size);
    for (const block of blocks) {
      expect(block).toMatch(/--hash=sha256:[0-9a-f]{64}/);
    }
  });

  test('runs as the numeric non-root user the pods declare, and verifies the database certificate', () => {
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/PGSSLMODE=verify-full/);
  });

  test('sends only the entrypoint, the batch job steps, what they share and its requirements to the Docker build', () => {
    expect(fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, '.dockerignore'), 'utf8').split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([
      '*',
      '!steps.py',
      '!entrypoint.py',
      '!promotion.py',
      '!batch.py',
      '!requirements.txt',
    ]);
  });

  test('gets every file it copies in its build context, and nothing else but the Dockerfile and .dockerignore', () => {
    expect(stagedBuildContext(MLFLOW_IMAGE_DIRECTORY)).toEqual([...copiedSources(dockerfile), '.dockerignore', 'Dockerfile'].sort());
  });

  test('carries no Evidently: the drift report has its own image', () => {
    expect(pinned(requirements).has('evidently')).toBe(false);
    expect(copiedSources(dockerfile)).not.toContain('drift.py');
  });

  test('copies the entrypoint and the batch job steps to where the manifests run them', () => {
    expect(dockerfile).toMatch(/^COPY entrypoint\.py \/opt\/mlflow-platform\/entrypoint\.py$/m);
    // Next to the entrypoint, which imports it.
    expect(dockerfile).toMatch(/^COPY promotion\.py \/opt\/mlflow-platform\/promotion\.py$/m);
    expect(dockerfile).toMatch(new RegExp(`^COPY batch\\.py ${BATCH_SCRIPT_PATH.replace(/[./]/g, '\\$&')}$`, 'm'));
    // Next to the entrypoint, the gate and the batch job's steps, which all import it.
    expect(dockerfile).toMatch(new RegExp(`^COPY steps\\.py ${path.posix.join(path.posix.dirname(BATCH_SCRIPT_PATH), 'steps.py').replace(/[./]/g, '\\$&')}$`, 'm'));
  });
});
