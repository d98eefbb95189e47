import type { Call } from './types';
import { callTime, isMissed } from './format';

export interface HourBucket {
  /** Local hour of the day, 0–23. */
  hour: number;
  /** Calls that began in this hour, both directions. */
  calls: number;
  /** Inbound calls of this hour that ended unanswered. */
  missed: number;
}

/** Calls and missed calls per local hour for the local day of `now`. */
export function hourBuckets(
  calls: readonly Pick<Call, 'direction' | 'state' | 'start_at' | 'initialized_at' | 'created_at'>[],
  now: Date,
): HourBucket[] {
  const buckets: HourBucket[] = Array.from({ length: 24 }, (_, hour) => ({ hour, calls: 0, missed: 0 }));
  for (const call of calls) {
    const t = new Date(callTime(call));
    if (Number.isNaN(t.getTime())) continue;
    if (t.getFullYear() !== now.getFullYear() || t.getMonth() !== now.getMonth() || t.getDate() !== now.getDate()) {
      continue;
    }
    const bucket = buckets[t.getHours()];
    bucket.calls += 1;
    if (isMissed(call)) bucket.missed += 1;
  }
  return buckets;
}
