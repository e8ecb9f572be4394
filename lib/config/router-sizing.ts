/**
 * The size of a model's router (charts/lib/model-router.ts). It lives here, below the charts, so
 * that config validation counts the router's pods against its team's quota and the general pool
 * with the numbers the chart deploys.
 */

/**
 * CPU and memory of one router pod. Measured (docs/design/model-router.md): one nginx worker uses
 * about 0.1 CPU per 1000 requests per second and under 10 MiB; the limits leave room for bursts and
 * for request bodies buffered in memory (up to 1 MiB each).
 */
export const ROUTER_RESOURCES = { cpuRequestMillicores: 100, cpuLimitMillicores: 1000, memoryRequestMiB: 64, memoryLimitMiB: 256 };

/** Router pods of a model: one per zone of two. */
export const DEFAULT_ROUTER_REPLICAS = 2;

/** Whether a model gets a router: only a shadow or a fallback needs one; the load balancer does the rest. */
export function hasRouter(traffic: { readonly shadow?: unknown; readonly fallback?: string }): boolean {
  return traffic.shadow !== undefined || traffic.fallback !== undefined;
}
