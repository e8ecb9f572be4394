import * as fs from 'node:fs';
import * as path from 'node:path';
import { DRIFT_SCRIPT_PATH } from '../../charts/lib/drift-report-cron-job';
import { NON_ROOT_ID } from '../../charts/lib/workload-hardening';
import { DRIFT_REPORT_DOCKERFILE, DRIFT_REPORT_IMAGE_CONTEXT } from '../../lib/constructs/drift-report';
import { MLFLOW_IMAGE_DIRECTORY } from '../../lib/constructs/mlflow-server';
import { copiedSources, stagedBuildContext } from '../helpers/image-build-context';

const folder = path.dirname(path.join(DRIFT_REPORT_IMAGE_CONTEXT, DRIFT_REPORT_DOCKERFILE));
const dockerfile = fs.readFileSync(path.join(DRIFT_REPORT_IMAGE_CONTEXT, DRIFT_REPORT_DOCKERFILE), 'utf8');
const requirementsIn = fs.readFileSync(path.join(folder, 'requirements.in'), 'utf8');
const requirements = fs.readFileSync(path.join(folder, 'requirements.txt'), 'utf8');
const serverDockerfile = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'Dockerfile'), 'utf8');
const serverRequirements = fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'requirements.txt'), 'utf8');

/** Each package a hash-pinned requirements file installs: its version and its sorted hashes. */
function pinned(text: string): Map<string, { version: string; hashes: string[] }> {
  const blocks = text.split(/\n(?=[a-z0-9])/i).filter((block) => /^[a-z0-9][a-z0-9._-]*==/i.test(block));
  return new Map(
    blocks.map((block) => {
      const [, name, version] = /^([a-z0-9][a-z0-9._-]*)==([^\s\\]+)/i.exec(block)!;
      return [name.toLowerCase(), { version, hashes: [...block.matchAll(/--hash=(sha256:[0-9a-f]{64})/g)].map((match) => match[1]).sort() }];
    }),
  );
}

const drift = pinned(requirements);
const server = pinned(serverRequirements);

describe('the drift report image', () => {
  test('starts from the MLflow image\'s base image, the Python minor version the runtime tests run', () => {
    const base = /^FROM (\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^python:3\.11-slim-[a-z]+(@sha256:[0-9a-f]{64})?$/);
    expect(base).toBe(/^FROM (\S+)$/m.exec(serverDockerfile)?.[1]);
  });

  test('installs exactly its hash-pinned requirements file, and nothing else', () => {
    const installs = [...dockerfile.matchAll(/pip install[^\n]*/g)].map((match) => match[0]);
    expect(installs).toEqual(['pip install --no-cache-dir --require-hashes --no-deps -r /opt/drift-report/requirements.txt']);
    expect(dockerfile).toMatch(/^COPY drift-report\/requirements\.txt \/opt\/drift-report\/requirements\.txt$/m);
  });

  test('pins Evidently, pandas 2 and the MLflow client of the MLflow image\'s release, each with hashes, and names no package index or folder', () => {
    expect(requirementsIn).toMatch(/^evidently==\d+\.\d+\.\d+$/m);
    expect(requirementsIn).toMatch(/^pandas==2\.\d+\.\d+$/m);
    expect(drift.get('mlflow-skinny')?.version).toBe(server.get('mlflow')?.version);
    for (const name of ['evidently', 'pandas', 'pyarrow', 'boto3']) {
      expect(drift.get(name)?.version).toMatch(/^\d+\.\d+(\.\d+)?/);
    }
    // Every pinned package carries at least one hash, or pip --require-hashes refuses the file.
    for (const [, { hashes }] of drift) {
      expect(hashes.length).toBeGreaterThan(0);
    }
    expect(requirements).not.toMatch(/^--(find-links|index-url|extra-index-url)/m);
  });

  test('pins every package it shares with the MLflow image to the same version and hashes, so one environment holds both', () => {
    expect(requirementsIn).toMatch(/^-c \.\.\/mlflow\/requirements\.txt$/m);
    const shared = [...drift.keys()].filter((name) => server.has(name));
    expect(shared.length).toBeGreaterThan(40);
    for (const name of shared) {
      expect([name, drift.get(name)]).toEqual([name, server.get(name)]);
    }
  });

  test('runs as the numeric non-root user the pods declare, the MLflow image\'s, whose credentials file it reads', () => {
    expect(dockerfile).toMatch(new RegExp(`^USER ${NON_ROOT_ID}:${NON_ROOT_ID}$`, 'm'));
    expect(serverDockerfile).toMatch(new RegExp(`^USER ${NON_ROOT_ID}:${NON_ROOT_ID}$`, 'm'));
  });

  test('copies the drift step where the manifest runs it, with the MLflow image\'s shared steps module it imports beside it', () => {
    expect(dockerfile).toMatch(new RegExp(`^COPY drift-report/drift\\.py ${DRIFT_SCRIPT_PATH.replace(/[./]/g, '\\$&')}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^COPY mlflow/steps\\.py ${path.posix.join(path.posix.dirname(DRIFT_SCRIPT_PATH), 'steps.py').replace(/[./]/g, '\\$&')}$`, 'm'));
  });

  test('gets every file it copies in its build context, all of images/, and nothing else but its Dockerfile and .dockerignore', () => {
    expect(stagedBuildContext(DRIFT_REPORT_IMAGE_CONTEXT, DRIFT_REPORT_DOCKERFILE)).toEqual(
      [...copiedSources(dockerfile), '.dockerignore', DRIFT_REPORT_DOCKERFILE].sort(),
    );
  });
});
