/**
 * The nginx.conf of a model's router (Debian bookworm's nginx 1.22.1): every request goes to the
 * primary version, falls back to the fallback version when the primary cannot answer, and a sampled
 * share of scoring requests is copied to the shadow version, whose answers are thrown away. Design,
 * sources and measurements: docs/design/model-router.md.
 */

/** Port the router listens on in its pod. */
export const ROUTER_PORT = 8080;

/** Path the router answers itself, for its probes and the load balancer's health check. */
export const ROUTER_PING_PATH = '/ping';

/** Response header naming the version that answered. */
export const SERVED_VERSION_HEADER = 'X-Model-Version';

/** Seconds a caller is told to wait (`Retry-After`) when no version can answer. */
export const RETRY_AFTER_SECONDS = 5;

/** Where nginx may write (its pid file and request-body and response buffers): the pod's scratch volume. */
const SCRATCH = '/tmp';

/** One model version the router sends requests to. */
export interface RouterUpstream {
  /** The version's name, returned in {@link SERVED_VERSION_HEADER}, e.g. `v7`. */
  readonly version: string;
  /** Host name of the version's Service (resolved once, when nginx starts) or an IP address. */
  readonly host: string;
  /** Port of the version's Service. */
  readonly port: number;
}

/** A version that receives a copy of a sampled share of the scoring requests. */
export interface ShadowUpstream extends RouterUpstream {
  /** Share of scoring requests copied, in percent (0.01 to 100, at most two decimals). */
  readonly percent: number;
}

/** How long the router waits, in milliseconds. */
export interface RouterTimeouts {
  /** To open a connection to a version before trying the next one. */
  readonly connectMilliseconds: number;
  /** Between two writes of the request, or two reads of the answer, before trying the next version. */
  readonly responseMilliseconds: number;
  /** For the shadow, from connecting to its whole answer; bounds how long a copy holds a connection. */
  readonly shadowMilliseconds: number;
}

/** Timeouts used where {@link ModelRouterConfigProps.timeouts} leaves one out. */
export const DEFAULT_ROUTER_TIMEOUTS: RouterTimeouts = {
  // In-cluster connections open in well under a millisecond; only a vanished pod takes longer.
  connectMilliseconds: 250,
  // Generous: cutting a slow but healthy answer would retry it on the fallback, doubling the work.
  responseMilliseconds: 5000,
  shadowMilliseconds: 1000,
};

/** Properties of {@link modelRouterConfig}. */
export interface ModelRouterConfigProps {
  /** Port to listen on. @default ROUTER_PORT */
  readonly listenPort?: number;
  /** The version every request goes to first. */
  readonly primary: RouterUpstream;
  /** The version requests go to when the primary cannot answer. @default - none: the router answers 503 */
  readonly fallback?: RouterUpstream;
  /** The version receiving copies of a sample of the scoring requests. @default - no copies */
  readonly shadow?: ShadowUpstream;
  /** Timeouts. @default DEFAULT_ROUTER_TIMEOUTS */
  readonly timeouts?: Partial<RouterTimeouts>;
}

const VERSION_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const HOST_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** Refuses values that would not be valid, or would inject directives, in the rendered file. */
function check(props: ModelRouterConfigProps): void {
  const upstreams: [string, RouterUpstream | undefined][] = [['primary', props.primary], ['fallback', props.fallback], ['shadow', props.shadow]];
  for (const [role, upstream] of upstreams) {
    if (!upstream) {
      continue;
    }
    if (!VERSION_PATTERN.test(upstream.version)) {
      throw new Error(`model router: ${role}.version "${upstream.version}" must be a DNS label (lower-case letters, digits and -)`);
    }
    if (!HOST_PATTERN.test(upstream.host)) {
      throw new Error(`model router: ${role}.host "${upstream.host}" must be a host name or an IPv4 address`);
    }
    checkInteger(`${role}.port`, upstream.port, 1, 65535);
  }
  const percent = props.shadow?.percent;
  // split_clients takes at most two decimals; compared with a tolerance, since 0.07 * 100 is not 7 in floating point.
  if (percent !== undefined && !(percent >= 0.01 && percent <= 100 && Math.abs(Math.round(percent * 100) - percent * 100) < 1e-6)) {
    throw new Error(`model router: shadow.percent ${percent} must be between 0.01 and 100, with at most two decimals`);
  }
  checkInteger('listenPort', props.listenPort ?? ROUTER_PORT, 1, 65535);
  for (const [name, value] of Object.entries(props.timeouts ?? {})) {
    checkInteger(`timeouts.${name}`, value, 1, 600_000);
  }
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`model router: ${field} ${value} must be an integer from ${min} to ${max}`);
  }
}

/** The JSON body of the router's own 503, in the MLflow scoring server's error format. */
export function unavailableBody(): string {
  return JSON.stringify({ error_code: 'MODEL_UNAVAILABLE', message: `No version of the model can answer now; retry after ${RETRY_AFTER_SECONDS} seconds.` });
}

/**
 * Renders the router's nginx.conf.
 *
 * - Versions: one `upstream` with the primary and, as its `backup`, the fallback. A request the
 *   primary refuses, times out on or answers 502/503/504 is sent once to the fallback (two tries
 *   at most). Scoring is a POST, which nginx retries only with `non_idempotent`: predictions have
 *   no side effects, so a retry is safe. `max_fails=0`: each entry is one Service address standing
 *   for all the version's pods, and nginx's default (one failure takes the entry out for 10 s)
 *   would send all traffic to the fallback after a single failed request.
 * - Shadow: the sampling decision is made on the request itself (`split_clients` on
 *   `$request_id`); a sampled request moves to a location that adds the `mirror` and closes the
 *   client connection after the answer. nginx finishes a request only once its mirror subrequest
 *   has, and reads nothing more on a keep-alive connection until then, so a slow shadow would
 *   delay the next request on that connection (measured: by the shadow's delay, up to the copy's timeout). Closing the
 *   connection costs a new connection for a sampled request only.
 * - Everything down: a 503 with a JSON body and `Retry-After`.
 * - `/ping` is answered by the router itself: were it passed on, a primary outage would fail the
 *   router pods' readiness, the load balancer would lose its targets and the fallback would never
 *   be reached.
 * - Non-root on a read-only root: the pid file and buffers in {@link SCRATCH}, logs to stdout and
 *   stderr, the port above 1024.
 */
export function modelRouterConfig(props: ModelRouterConfigProps): string {
  check(props);
  const timeouts = { ...DEFAULT_ROUTER_TIMEOUTS, ...props.timeouts };
  const { primary, fallback, shadow } = props;
  const ms = (value: number) => `${value}ms`;
  const server = (upstream: RouterUpstream, backup: boolean) =>
    `    server ${upstream.host}:${upstream.port} max_fails=0${backup ? ' backup' : ''};`;

  // With one primary entry, two addresses in $upstream_addr mean the fallback answered.
  const servedVersion = fallback
    ? ['  map $upstream_addr $served_version {', `    "~,"      ${fallback.version};`, `    default   ${primary.version};`, '  }']
    : ['  map $upstream_addr $served_version {', `    default   ${primary.version};`, '  }'];

  const proxyToVersions = (target: string) => [
    `      proxy_pass ${target};`,
    `      add_header ${SERVED_VERSION_HEADER} $served_version always;`,
  ];

  const shadowBlocks = shadow
    ? {
        http: [
          '  upstream model_shadow {',
          server(shadow, false),
          '  }',
          '',
          '  # Sampled per request; the share is exact over many requests, not per connection.',
          '  split_clients "${request_id}" $shadow_sampled {',
          `    ${shadow.percent}% 1;`,
          '    *  "";',
          '  }',
        ],
        scoring: ['      if ($shadow_sampled) {', '        rewrite ^ /_shadowed last;', '      }'],
        locations: [
          '    # A sampled scoring request: answered as any other, and copied to the shadow.',
          '    location = /_shadowed {',
          '      internal;',
          '      mirror /_shadow;',
          '      mirror_request_body on;',
          '      # The connection is closed after the answer, so that no later request waits for the copy.',
          '      keepalive_timeout 0;',
          ...proxyToVersions('http://model_versions$request_uri'),
          '    }',
          '',
          '    # The copy: its answer is discarded; short timeouts bound how long it holds a connection.',
          '    location = /_shadow {',
          '      internal;',
          '      proxy_pass http://model_shadow$request_uri;',
          '      # Headers set here replace the inherited ones; the copy carries the same request ID as the original.',
          '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
          '      proxy_set_header X-Request-Id $request_id;',
          `      proxy_connect_timeout ${ms(Math.min(timeouts.connectMilliseconds, timeouts.shadowMilliseconds))};`,
          `      proxy_send_timeout ${ms(timeouts.shadowMilliseconds)};`,
          `      proxy_read_timeout ${ms(timeouts.shadowMilliseconds)};`,
          '      proxy_next_upstream off;',
          '      proxy_intercept_errors off;',
          '    }',
        ],
        logField: ',"shadowed":"$shadow_sampled"',
      }
    : { http: [], scoring: [], locations: [], logField: '' };

  const logFormat =
    '{"time":"$time_iso8601","request_id":"$request_id","method":"$request_method","uri":"$request_uri",' +
    '"status":$status,"request_time":$request_time,"bytes_sent":$bytes_sent,' +
    '"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",' +
    '"upstream_response_time":"$upstream_response_time","served_version":"$served_version"' +
    `${shadowBlocks.logField},"trace_id":"$http_x_amzn_trace_id"}`;

  return [
    '# Rendered by charts/lib/model-router-config.ts; see docs/design/model-router.md.',
    'daemon off;',
    // One worker proxies thousands of requests per second; `auto` would count the node's CPUs, not the pod's.
    'worker_processes 1;',
    `pid ${SCRATCH}/nginx.pid;`,
    'error_log stderr warn;',
    '',
    'events {',
    '  worker_connections 4096;',
    '}',
    '',
    'http {',
    '  server_tokens off;',
    `  client_body_temp_path ${SCRATCH}/client_body;`,
    `  proxy_temp_path ${SCRATCH}/proxy;`,
    `  fastcgi_temp_path ${SCRATCH}/fastcgi;`,
    `  uwsgi_temp_path ${SCRATCH}/uwsgi;`,
    `  scgi_temp_path ${SCRATCH}/scgi;`,
    '',
    `  log_format router escape=json '${logFormat}';`,
    '  access_log /dev/stdout router;',
    '',
    '  # Longer than the load balancer\'s 60 s idle timeout, so that the load balancer closes idle connections, not nginx.',
    '  keepalive_timeout 75s;',
    '  # Batches are scored in one request; bodies are buffered (the shadow copy needs them whole).',
    '  client_max_body_size 64m;',
    '  client_body_buffer_size 1m;',
    '',
    '  upstream model_versions {',
    server(primary, false),
    ...(fallback ? [server(fallback, true)] : []),
    '    keepalive 32;',
    "    # Shorter than the scoring server's 5 s, so that nginx never reuses a connection the server is closing.",
    '    keepalive_timeout 4s;',
    '  }',
    '',
    ...servedVersion,
    '',
    ...shadowBlocks.http,
    ...(shadow ? [''] : []),
    '  server {',
    `    listen ${props.listenPort ?? ROUTER_PORT} default_server;`,
    '',
    '    proxy_http_version 1.1;',
    '    proxy_set_header Connection "";',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Request-Id $request_id;',
    `    proxy_connect_timeout ${ms(timeouts.connectMilliseconds)};`,
    `    proxy_send_timeout ${ms(timeouts.responseMilliseconds)};`,
    `    proxy_read_timeout ${ms(timeouts.responseMilliseconds)};`,
    '    proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;',
    '    proxy_next_upstream_tries 2;',
    '    # A version\'s own 502/503/504 after the last try becomes the router\'s 503 below.',
    '    proxy_intercept_errors on;',
    '    error_page 502 503 504 = @unavailable;',
    '',
    `    location = ${ROUTER_PING_PATH} {`,
    '      access_log off;',
    '      return 200;',
    '    }',
    '',
    '    location = /invocations {',
    ...shadowBlocks.scoring,
    ...proxyToVersions('http://model_versions'),
    '    }',
    '',
    ...shadowBlocks.locations,
    ...(shadow ? [''] : []),
    '    location / {',
    ...proxyToVersions('http://model_versions'),
    '    }',
    '',
    '    location @unavailable {',
    '      default_type application/json;',
    `      add_header Retry-After ${RETRY_AFTER_SECONDS} always;`,
    `      return 503 '${unavailableBody()}';`,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}
