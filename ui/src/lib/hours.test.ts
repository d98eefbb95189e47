import { describe, expect, it } from 'vitest';
import { hourBuckets } from './hours';
import { makeCall, makeMissedCall } from '../test/fixtures';

const at = (h: number, m = 0, day = 6) => new Date(2024, 4, day, h, m).toISOString();

describe('hourBuckets', () => {
  const now = new Date(2024, 4, 6, 16, 0);

  it('has 24 empty hours without calls', () => {
    const buckets = hourBuckets([], now);
    expect(buckets).toHaveLength(24);
    expect(buckets.map((b) => b.hour)).toEqual([...Array(24).keys()]);
    expect(buckets.every((b) => b.calls === 0 && b.missed === 0)).toBe(true);
  });

  it('counts calls and missed calls by local hour of today', () => {
    const calls = [
      makeCall({ initialized_at: at(9, 0) }),
      makeCall({ initialized_at: at(9, 59), direction: 'out' }),
      makeMissedCall({ initialized_at: at(9, 30) }),
      makeMissedCall({ initialized_at: at(14, 10), done: true }), // done still counts as missed
      makeMissedCall({ initialized_at: at(0, 0) }),
      makeCall({ initialized_at: at(23, 59) }),
    ];
    const buckets = hourBuckets(calls, now);
    expect(buckets[9]).toEqual({ hour: 9, calls: 3, missed: 1 });
    expect(buckets[14]).toEqual({ hour: 14, calls: 1, missed: 1 });
    expect(buckets[0]).toEqual({ hour: 0, calls: 1, missed: 1 });
    expect(buckets[23]).toEqual({ hour: 23, calls: 1, missed: 0 });
    expect(buckets.reduce((n, b) => n + b.calls, 0)).toBe(6);
  });

  it('leaves out other days', () => {
    const calls = [
      makeCall({ initialized_at: at(9, 0, 5) }),
      makeCall({ initialized_at: at(9, 0, 7) }),
      makeCall({ initialized_at: new Date(2023, 4, 6, 9, 0).toISOString() }),
    ];
    expect(hourBuckets(calls, now).every((b) => b.calls === 0)).toBe(true);
  });

  it('uses the creation time when the first event time is unknown', () => {
    const calls = [makeCall({ initialized_at: null, created_at: at(11, 15) })];
    expect(hourBuckets(calls, now)[11].calls).toBe(1);
  });

  it('does not count an outbound unanswered call as missed', () => {
    const calls = [makeMissedCall({ direction: 'out', initialized_at: at(10, 0) })];
    expect(hourBuckets(calls, now)[10]).toEqual({ hour: 10, calls: 1, missed: 0 });
  });
});

describe('time zone', () => {
  it('runs the tests away from UTC', () => {
    expect(new Date(2024, 4, 6, 12, 0).getTimezoneOffset()).not.toBe(0);
  });
});
