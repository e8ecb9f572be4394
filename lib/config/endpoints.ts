/** Interface endpoints the platform knows how to create; each one avoids NAT traffic for that service. */
export const INTERFACE_ENDPOINTS = ['ecrApi', 'ecrDocker', 'sts', 'secretsManager', 'cloudWatchLogs', 's3', 'cloudWatchMetrics'] as const;

/** Config name of one interface endpoint. */
export type InterfaceEndpointName = (typeof INTERFACE_ENDPOINTS)[number];

/**
 * The AWS APIs the platform's and the teams' pods call: S3 (artifacts, batch input and output), Secrets
 * Manager (MLflow credentials) and CloudWatch metrics (job results). With `network.podHttpsEgress:
 * endpoints` pods reach AWS only through these interface endpoints, so each must exist.
 */
export const POD_API_ENDPOINTS: readonly InterfaceEndpointName[] = ['s3', 'secretsManager', 'cloudWatchMetrics'];

/** Where pods in the platform's and the teams' namespaces may open HTTPS connections. */
export const POD_HTTPS_EGRESS = ['endpoints', 'anywhere'] as const;

/** Config value of `network.podHttpsEgress`. */
export type PodHttpsEgress = (typeof POD_HTTPS_EGRESS)[number];
