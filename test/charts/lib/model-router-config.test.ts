import {
  DEFAULT_ROUTER_TIMEOUTS,
  modelRouterConfig,
  ModelRouterConfigProps,
  RETRY_AFTER_SECONDS,
  ROUTER_PORT,
} from '../../../charts/lib/model-router-config';

const PRIMARY = { version: 'v7', host: 'fraud-scorer-v7.fraud.svc.cluster.local', port: 80 };
const FALLBACK = { version: 'v6', host: 'fraud-scorer-v6.fraud.svc.cluster.local', port: 80 };
const SHADOW = { version: 'v9', host: 'fraud-scorer-v9.fraud.svc.cluster.local', port: 80, percent: 10 };

const render = (props: Partial<ModelRouterConfigProps> = {}) => modelRouterConfig({ primary: PRIMARY, ...props });

/** The body of the first block opened by `header` (e.g. `location = /_shadow`), without its braces. */
function block(config: string, header: string): string {
  const start = config.indexOf(`${header} {`);
  if (start < 0) {
    throw new Error(`no block ${header}`);
  }
  const open = start + header.length + 1;
  let depth = 0;
  for (let index = open; index < config.length; index++) {
    depth += config[index] === '{' ? 1 : config[index] === '}' ? -1 : 0;
    if (depth === 0) {
      return config.slice(open + 1, index);
    }
  }
  throw new Error(`block ${header} is not closed`);
}

/** The directives of a block, one per line, without comments. */
const directives = (body: string) =>
  body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

describe('modelRouterConfig', () => {
  test('sends every request to the primary alone when there is no fallback', () => {
    expect(directives(block(render(), 'upstream model_versions'))).toEqual([
      'server fraud-scorer-v7.fraud.svc.cluster.local:80 max_fails=0;',
      'keepalive 32;',
      'keepalive_timeout 4s;',
    ]);
  });

  test('adds the fallback as the backup server of the primary, never marked down by one failure', () => {
    expect(directives(block(render({ fallback: FALLBACK }), 'upstream model_versions')).slice(0, 2)).toEqual([
      'server fraud-scorer-v7.fraud.svc.cluster.local:80 max_fails=0;',
      'server fraud-scorer-v6.fraud.svc.cluster.local:80 max_fails=0 backup;',
    ]);
  });

  test('retries a failed, timed-out or 502/503/504 scoring POST once on the next server', () => {
    const server = directives(block(render({ fallback: FALLBACK }), 'server'));
    expect(server).toContain('proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;');
    expect(server).toContain('proxy_next_upstream_tries 2;');
    expect(server).toContain(`proxy_connect_timeout ${DEFAULT_ROUTER_TIMEOUTS.connectMilliseconds}ms;`);
    expect(server).toContain(`proxy_read_timeout ${DEFAULT_ROUTER_TIMEOUTS.responseMilliseconds}ms;`);
  });

  test('names the answering version in a header: the fallback when the primary was tried first', () => {
    expect(directives(block(render({ fallback: FALLBACK }), 'map $upstream_addr $served_version'))).toEqual(['"~,"      v6;', 'default   v7;']);
    expect(directives(block(render(), 'map $upstream_addr $served_version'))).toEqual(['default   v7;']);
    expect(directives(block(render(), 'location = /invocations'))).toContain('add_header X-Model-Version $served_version always;');
  });

  test('answers 503 with a JSON body and Retry-After when no version can answer', () => {
    const config = render({ fallback: FALLBACK });
    expect(directives(block(config, 'server'))).toEqual(expect.arrayContaining(['proxy_intercept_errors on;', 'error_page 502 503 504 = @unavailable;']));
    const unavailable = directives(block(config, 'location @unavailable'));
    expect(unavailable).toContain('default_type application/json;');
    expect(unavailable).toContain(`add_header Retry-After ${RETRY_AFTER_SECONDS} always;`);
    const body = unavailable.find((line) => line.startsWith('return 503 '))?.match(/^return 503 '(.*)';$/)?.[1];
    expect(JSON.parse(body ?? '')).toEqual({ error_code: 'MODEL_UNAVAILABLE', message: expect.stringContaining('retry after 5 seconds') });
  });

  test('has no mirror, sampling or shadow upstream without a shadow', () => {
    const config = render({ fallback: FALLBACK });
    for (const word of ['mirror', 'split_clients', 'model_shadow', '_shadow']) {
      expect(config).not.toContain(word);
    }
  });

  test('copies the configured share of scoring requests to the shadow, sampled per request', () => {
    const config = render({ shadow: { ...SHADOW, percent: 12.5 } });
    expect(directives(block(config, 'split_clients "${request_id}" $shadow_sampled'))).toEqual(['12.5% 1;', '*  "";']);
    expect(directives(block(config, 'location = /invocations'))).toEqual(
      expect.arrayContaining(['if ($shadow_sampled) {', 'rewrite ^ /_shadowed last;']),
    );
    const shadowed = directives(block(config, 'location = /_shadowed'));
    expect(shadowed).toEqual(expect.arrayContaining(['internal;', 'mirror /_shadow;', 'mirror_request_body on;']));
    expect(directives(block(config, 'upstream model_shadow'))).toEqual(['server fraud-scorer-v9.fraud.svc.cluster.local:80 max_fails=0;']);
  });

  test('accepts any share split_clients accepts, down to two decimals', () => {
    for (const percent of [0.07, 0.01, 33.33, 100]) {
      expect(render({ shadow: { ...SHADOW, percent } })).toContain(`    ${percent}% 1;`);
    }
  });

  test('mirrors only scoring requests: other paths go to the versions uncopied', () => {
    const config = render({ shadow: SHADOW });
    expect(directives(block(config, 'location /'))).toEqual(['proxy_pass http://model_versions;', 'add_header X-Model-Version $served_version always;']);
  });

  test('closes the client connection after a sampled request, so that no later request waits for its copy', () => {
    expect(directives(block(render({ shadow: SHADOW }), 'location = /_shadowed'))).toContain('keepalive_timeout 0;');
  });

  test('bounds the copy by the shadow timeout and never retries it', () => {
    const copy = directives(block(render({ shadow: SHADOW, timeouts: { shadowMilliseconds: 300 } }), 'location = /_shadow'));
    expect(copy).toEqual(
      expect.arrayContaining([
        'internal;',
        'proxy_pass http://model_shadow$request_uri;',
        'proxy_connect_timeout 250ms;',
        'proxy_send_timeout 300ms;',
        'proxy_read_timeout 300ms;',
        'proxy_next_upstream off;',
      ]),
    );
  });

  test('answers /ping itself, so that a primary outage does not take the router out of the load balancer', () => {
    expect(directives(block(render({ fallback: FALLBACK }), 'location = /ping'))).toEqual(['access_log off;', 'return 200;']);
  });

  test('runs as a non-root user on a read-only root: port above 1024, pid and buffers in /tmp, logs to stdout and stderr', () => {
    const config = render({ shadow: SHADOW, fallback: FALLBACK });
    const lines = directives(config);
    expect(lines).toContain(`listen ${ROUTER_PORT} default_server;`);
    expect(ROUTER_PORT).toBeGreaterThan(1024);
    expect(lines).not.toContainEqual(expect.stringMatching(/^user /));
    expect(lines).toContain('daemon off;');
    expect(lines).toContain('pid /tmp/nginx.pid;');
    expect(lines).toContain('error_log stderr warn;');
    expect(lines).toContain('access_log /dev/stdout router;');
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(lines).toContain(`${temp}_temp_path /tmp/${temp};`);
    }
    // Every absolute path the file names is under /tmp, or a device.
    expect(config.match(/ \/(?!tmp\/|dev\/stdout)[a-z]+\/[^\s;]*/g)).toBeNull();
  });

  test('logs each request as one JSON object with the upstream address and response time', () => {
    const format = render({ shadow: SHADOW }).match(/log_format router escape=json '(.*)';/)?.[1] ?? '';
    const sample = format.replace(/\$[a-z_]+/g, (variable) => (['$status', '$request_time', '$bytes_sent'].includes(variable) ? '1' : 'x'));
    expect(Object.keys(JSON.parse(sample))).toEqual(
      expect.arrayContaining(['request_id', 'status', 'upstream_addr', 'upstream_status', 'upstream_response_time', 'served_version', 'shadowed']),
    );
  });

  test.each([
    [{ shadow: { ...SHADOW, percent: 0 } }, 'shadow.percent 0 must be between 0.01 and 100, with at most two decimals'],
    [{ shadow: { ...SHADOW, percent: 100.5 } }, 'shadow.percent 100.5 must be between 0.01 and 100'],
    [{ shadow: { ...SHADOW, percent: 1.234 } }, 'shadow.percent 1.234 must be between 0.01 and 100, with at most two decimals'],
    [{ fallback: { ...FALLBACK, host: 'evil; include /etc/passwd' } }, 'fallback.host "evil; include /etc/passwd" must be a host name'],
    [{ primary: { ...PRIMARY, version: 'V7 ' } }, 'primary.version "V7 " must be a DNS label'],
    [{ primary: { ...PRIMARY, port: 0 } }, 'primary.port 0 must be an integer from 1 to 65535'],
    [{ timeouts: { responseMilliseconds: 1.5 } }, 'timeouts.responseMilliseconds 1.5 must be an integer'],
  ])('refuses %j with one clear line', (props, message) => {
    expect(() => render(props as Partial<ModelRouterConfigProps>)).toThrow(message);
  });
});
