import { App } from 'cdk8s';
import { scratchFolder } from './scratch';

/**
 * A cdk8s app for chart tests. cdk8s's `Testing.app()` makes a new temporary folder per call and never removes
 * it; charts under test only render (`toJson()`), so this app points at the run's scratch folder, which the run
 * removes.
 */
export function chartTestApp(): App {
  return new App({ outdir: scratchFolder() });
}
