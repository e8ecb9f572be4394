import { jobMetricNamespace } from '../../../lib/config/job-metrics';

describe('jobMetricNamespace', () => {
  test('names one namespace per job kind, environment and model, under MLOpsPlatform/', () => {
    expect(jobMetricNamespace('Batch', 'mlops-prod', 'fraud-scorer')).toBe('MLOpsPlatform/Batch/mlops-prod/fraud-scorer');
    expect(jobMetricNamespace('Training', 'mlops-prod', 'fraud-scorer')).toBe('MLOpsPlatform/Training/mlops-prod/fraud-scorer');
    expect(jobMetricNamespace('Drift', 'mlops-staging', 'churn')).toBe('MLOpsPlatform/Drift/mlops-staging/churn');
  });

  // The longest environment (a 16-character prefix and a 16-character file name) and model name
  // (40 characters) the config allows.
  test('stays within the 255 characters CloudWatch allows a namespace', () => {
    expect(jobMetricNamespace('Training', `${'p'.repeat(16)}-${'e'.repeat(16)}`, 'm'.repeat(40)).length).toBeLessThanOrEqual(255);
  });
});
