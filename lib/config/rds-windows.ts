/**
 * RDS backup and maintenance windows as minute ranges, to check what RDS checks only at deploy:
 * each window lasts at least 30 minutes, and the daily backup window never meets the weekly
 * maintenance window. Both are UTC; a window may wrap midnight, and the maintenance window may
 * wrap the week (sun:23:30-mon:00:30).
 */

/** RDS refuses a backup or maintenance window shorter than this. */
export const MIN_WINDOW_MINUTES = 30;

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A window as its first minute and its length, in minutes of the day or of the week. */
interface Window {
  readonly start: number;
  readonly length: number;
}

/** `hh24:mi` as minutes since midnight. */
function minuteOfDay(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return hours * 60 + minutes;
}

/** `ddd:hh24:mi` as minutes since Monday midnight. */
function minuteOfWeek(time: string): number {
  return DAYS.indexOf(time.slice(0, 3)) * MINUTES_PER_DAY + minuteOfDay(time.slice(4));
}

function window(start: number, end: number, period: number): Window {
  return { start, length: (end - start + period) % period };
}

/** A daily `hh24:mi-hh24:mi` window, already checked against that format. */
function dailyWindow(value: string): Window {
  const [start, end] = value.split('-');
  return window(minuteOfDay(start), minuteOfDay(end), MINUTES_PER_DAY);
}

/** A weekly `ddd:hh24:mi-ddd:hh24:mi` window, already checked against that format. */
function weeklyWindow(value: string): Window {
  const [start, end] = value.split('-');
  return window(minuteOfWeek(start), minuteOfWeek(end), MINUTES_PER_WEEK);
}

/** Minutes a daily backup window lasts; `03:00-03:00` lasts none. */
export function backupWindowMinutes(value: string): number {
  return dailyWindow(value).length;
}

/** Minutes a weekly maintenance window lasts. */
export function maintenanceWindowMinutes(value: string): number {
  return weeklyWindow(value).length;
}

/**
 * True when the daily backup window, on any day of the week, shares a minute with the weekly
 * maintenance window. One ending as the other starts does not overlap.
 */
export function windowsOverlap(backupWindow: string, maintenanceWindow: string): boolean {
  const backup = dailyWindow(backupWindow);
  const maintenance = weeklyWindow(maintenanceWindow);
  return DAYS.some((_day, index) => {
    const start = index * MINUTES_PER_DAY + backup.start;
    const offset = (maintenance.start - start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
    const backOffset = (start - maintenance.start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
    return offset < backup.length || backOffset < maintenance.length;
  });
}
