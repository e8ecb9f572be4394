import { batchAlarmWindowHours, batchResources, CronError, parseCron, runDays, scheduleAlarmWindowHours } from '../../../lib/config/batch-inference';

describe('parseCron reads a schedule as the CronJob controller does', () => {
  test('expands ranges, steps, lists and names, Sunday being 0', () => {
    const schedule = parseCron('5/20 1-3 */10 jan,Jul mon-fri');
    expect([...schedule.minutes]).toEqual([5, 25, 45]);
    expect([...schedule.hours]).toEqual([1, 2, 3]);
    expect([...schedule.daysOfMonth]).toEqual([1, 11, 21, 31]);
    expect([...schedule.months]).toEqual([1, 7]);
    expect([...schedule.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
  });

  test('matches either day field when both are restricted, and both when one is * or ?', () => {
    expect(parseCron('0 0 1 * 1').eitherDay).toBe(true);
    expect(parseCron('0 0 * * 1').eitherDay).toBe(false);
    expect(parseCron('0 0 ? * 1').eitherDay).toBe(false);
    // robfig/cron: a star with a step above 1 restricts the field.
    expect(parseCron('0 0 */2 * 1').eitherDay).toBe(true);
  });

  test.each([
    ['0 5 * *', /has 4 fields, not 5/],
    ['0 24 * * *', /hour "24" is outside 0-23/],
    ['0 5 0 * *', /day of month "0" is outside 1-31/],
    ['0 5 * * 7', /day of week "7" is outside 0-6/],
    ['0 5 * * 5-1', /day of week "5-1" is outside 0-6 or runs backwards/],
    ['*/0 5 * * *', /minute "\*\/0" is outside/],
    ['0 5 * * mon/2/3', /has more than one step/],
    ['0 5 L * *', /day of month "L" is not a number/],
  ])('refuses %s', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronError);
    expect(() => parseCron(expression)).toThrow(message);
  });
});

describe('runDays measures the days between runs over a whole calendar cycle', () => {
  test.each([
    ['daily', '0 5 * * *', 1, 1],
    ['on weekdays', '0 5 * * 1-5', 3, 1],
    ['on the 1st of each month', '0 5 1 * *', 31, 28],
    ['on leap days', '0 5 29 2 *', 4 * 365 + 1, 4 * 365 + 1],
  ])('%s', (_title, expression, longest, shortest) => {
    expect(runDays(parseCron(expression))).toEqual({ longestGapDays: longest, shortestGapDays: shortest });
  });

  test('finds no runs for a date that never comes', () => {
    expect(runDays(parseCron('0 5 31 4 *'))).toBeUndefined();
  });
});

describe('the missed-run alarm window', () => {
  test('covers the longest gap, the starting deadline, the timeout, an hour of daylight saving and one hourly period', () => {
    // 24 h + 15 min + 60 min + 60 min = 26 h 15 min, in whole hours, plus one.
    expect(batchAlarmWindowHours(1, 60)).toBe(28);
    expect(scheduleAlarmWindowHours('0 6 * * mon-fri', 60)).toBe(76);
  });
});

describe('batchResources', () => {
  test("takes the first version's resources where the batch settings leave one out", () => {
    const primary = { resources: { cpuRequestMillicores: 500, cpuLimitMillicores: 1000, memoryRequestMiB: 1024, memoryLimitMiB: 1024 } };
    expect(batchResources(primary, { memoryRequestMiB: 4096, memoryLimitMiB: 4096, cpuLimitMillicores: undefined })).toEqual({
      cpuRequestMillicores: 500,
      cpuLimitMillicores: 1000,
      memoryRequestMiB: 4096,
      memoryLimitMiB: 4096,
    });
    expect(batchResources(primary, undefined)).toEqual(primary.resources);
  });
});
