import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODEL_ROUTER_IMAGE_DIRECTORY } from '../../charts/lib/model-router';
import { NON_ROOT_ID } from '../../charts/lib/workload-hardening';

const dockerfile = fs.readFileSync(path.join(MODEL_ROUTER_IMAGE_DIRECTORY, 'Dockerfile'), 'utf8');

describe('the model router image', () => {
  test('is Debian bookworm, the release whose nginx the runtime tier runs', () => {
    expect(dockerfile).toMatch(/^FROM debian:bookworm(-\d{8})?-slim(@sha256:[0-9a-f]{64})?$/m);
  });

  test('installs nginx alone, pinned to an exact Debian version, which the runtime tier unpacks', () => {
    const installs = [...dockerfile.matchAll(/apt-get install[^\n\\]*/g)].map((match) => match[0].trim());
    expect(installs).toEqual([expect.stringMatching(/^apt-get install -y --no-install-recommends nginx=\d+\.\d+\.\d+-[0-9a-z.+~]+$/)]);
    expect(fs.readFileSync(path.join(__dirname, '..', '..', 'scripts', 'setup-runtime.sh'), 'utf8')).toContain('images/model-router/Dockerfile');
  });

  test('runs as the numeric non-root user the pods declare and stops gracefully', () => {
    expect(dockerfile).toMatch(new RegExp(`^USER ${NON_ROOT_ID}:${NON_ROOT_ID}$`, 'm'));
    // nginx finishes its requests on SIGQUIT; on SIGTERM, the default, it drops them.
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGQUIT$/m);
  });

  test('sends nothing from its folder to the Docker build', () => {
    const ignored = fs.readFileSync(path.join(MODEL_ROUTER_IMAGE_DIRECTORY, '.dockerignore'), 'utf8');
    expect(ignored.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual(['*']);
  });
});
