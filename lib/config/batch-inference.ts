/**
 * What a model's batch inference settings mean: the cron expression read as the Kubernetes
 * CronJob controller reads it (robfig/cron v3's standard parser), the longest and shortest time
 * between two runs, the window the missed-run alarm watches, and the resources of the job's
 * containers. The config rules and the constructs both read these, so they live here, below both.
 */

/** Minutes the CronJob controller may start a run late before it counts the run as missed. */
export const BATCH_STARTING_DEADLINE_MINUTES = 15;

/** Most hours a CloudWatch alarm of one-hour periods can look back (period × evaluation periods ≤ 7 days). */
export const MAX_ALARM_WINDOW_HOURS = 168;

/** A run's wall-clock time moves by up to this much when daylight saving time starts or ends. */
const DAYLIGHT_SAVING_MINUTES = 60;

/** A 5-field cron expression as sets of the values each field matches. */
export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** A day matches when day-of-month AND day-of-week match if either field is `*` or `?`, else when either matches. */
  readonly eitherDay: boolean;
}

interface FieldBounds {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldBounds[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** A cron expression the CronJob controller would refuse; the message names the field and what is allowed. */
export class CronError extends Error {}

function value(text: string, field: FieldBounds): number {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) {
    return named + (field.name === 'month' ? 1 : 0);
  }
  if (!/^\d+$/.test(text)) {
    throw new CronError(`${field.name} "${text}" is not a number${field.names ? ` or a name such as ${field.names[0]}` : ''}`);
  }
  return Number(text);
}

/** One field's values, and whether it was `*` or `?` (which changes how the two day fields combine). */
function parseField(text: string, field: FieldBounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const range of text.split(',')) {
    const [span, step, ...extra] = range.split('/');
    if (extra.length > 0 || step === '') {
      throw new CronError(`${field.name} "${range}" has more than one step`);
    }
    const bounds = span.split('-');
    let start: number;
    let end: number;
    if (span === '*' || span === '?') {
      [start, end] = [field.min, field.max];
    } else if (bounds.length <= 2) {
      start = value(bounds[0], field);
      end = bounds.length === 2 ? value(bounds[1], field) : step !== undefined ? field.max : start;
    } else {
      throw new CronError(`${field.name} "${range}" has more than one "-"`);
    }
    const increment = step === undefined ? 1 : value(step, { name: `${field.name} step`, min: 1, max: field.max });
    // robfig/cron: `*/n` with n > 1 no longer counts as a star.
    star ||= (span === '*' || span === '?') && increment === 1;
    if (start < field.min || end > field.max || start > end || increment === 0) {
      throw new CronError(`${field.name} "${range}" is outside ${field.min}-${field.max} or runs backwards`);
    }
    for (let current = start; current <= end; current += increment) {
      values.add(current);
    }
  }
  return { values, star };
}

/** Parses 5 space-separated cron fields; throws a {@link CronError} naming the field at fault. */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw new CronError(`has ${parts.length} fields, not 5 (minute hour day-of-month month day-of-week)`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((part, index) => parseField(part, FIELDS[index]));
  return {
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dayOfMonth.values,
    months: month.values,
    daysOfWeek: dayOfWeek.values,
    eitherDay: !dayOfMonth.star && !dayOfWeek.star,
  };
}

/** How often a once-a-day schedule runs, in calendar days of its time zone. */
export interface RunDays {
  /** Most days from one run to the next. */
  readonly longestGapDays: number;
  /** Fewest days from one run to the next. */
  readonly shortestGapDays: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The Gregorian calendar repeats its weekdays and leap days every 28 years between 1901 and 2099. */
const CYCLE_DAYS = 28 * 365 + 7;

/** The days a schedule runs on, over one full calendar cycle; undefined when it never runs. */
export function runDays(schedule: CronSchedule): RunDays | undefined {
  const start = Date.UTC(2001, 0, 1);
  const days: number[] = [];
  // Two cycles, so the gap from the last run of one cycle to the first of the next is counted too.
  for (let index = 0; index < 2 * CYCLE_DAYS; index++) {
    const date = new Date(start + index * DAY_MS);
    const dayOfMonth = schedule.daysOfMonth.has(date.getUTCDate());
    const dayOfWeek = schedule.daysOfWeek.has(date.getUTCDay());
    const day = schedule.eitherDay ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek;
    if (day && schedule.months.has(date.getUTCMonth() + 1)) {
      days.push(index);
    }
  }
  if (days.length < 2) {
    return undefined;
  }
  const gaps = days.slice(1).map((day, index) => day - days[index]);
  return { longestGapDays: Math.max(...gaps), shortestGapDays: Math.min(...gaps) };
}

/**
 * Hours without a successful run after which the missed-run alarm fires: the longest time between
 * two runs, plus how late a run may start and how long it may take, an hour for daylight saving
 * time, and one hour because the alarm counts whole hourly periods.
 */
export function batchAlarmWindowHours(longestGapDays: number, timeoutMinutes: number): number {
  const lateness = BATCH_STARTING_DEADLINE_MINUTES + timeoutMinutes + DAYLIGHT_SAVING_MINUTES;
  return Math.ceil((longestGapDays * 24 * 60 + lateness) / 60) + 1;
}

/** CPU and memory of one container, as config gives them. */
export interface ContainerResources {
  readonly cpuRequestMillicores: number;
  readonly cpuLimitMillicores: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

/**
 * The job's container resources: each one the batch settings leave out is the first version's.
 * Generic, so that what counts only the requests (the capacity check) reads the same rule.
 */
export function batchResources<Resources extends Partial<ContainerResources>>(
  primary: { readonly resources: Resources },
  overrides: Partial<ContainerResources> | undefined,
): Resources {
  return { ...primary.resources, ...Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined)) };
}

/** The alarm window of a schedule the config rules have accepted. */
export function scheduleAlarmWindowHours(schedule: string, timeoutMinutes: number): number {
  const days = runDays(parseCron(schedule));
  if (!days) {
    throw new CronError(`schedule ${schedule} never runs`);
  }
  return batchAlarmWindowHours(days.longestGapDays, timeoutMinutes);
}
