/**
 * Names that config rules reserve and the charts create. They live here, below both, so the
 * config layer imports nothing from the layers that build on it.
 */

/** Name of the general-purpose CPU NodePool; no GPU pool may take it. */
export const GENERAL_NODE_POOL = 'general';

/** Namespace of the MLflow tracking server; no team may take it. */
export const MLFLOW_NAMESPACE = 'mlflow';
