import { describe, expect, it } from 'vitest';
import {
  canMarkDone,
  connectionText,
  dialResultText,
  formatDuration,
  formatTime,
  isOpenMissed,
  remoteName,
  remoteNumber,
  remotePretty,
  secondsSince,
  statusText,
} from './format';
import { makeCall, makeMissedCall } from '../test/fixtures';
import type { CallState } from './types';

describe('statusText', () => {
  it.each<[CallState, string | null, string]>([
    ['newCall', null, 'ringing'],
    ['answer', null, 'connected'],
    ['hangup', 'cancel', 'not reached'],
    ['hangup', 'noAnswer', 'not reached'],
    ['hangup', 'congestion', 'not reached'],
    ['hangup', 'busy', 'busy'],
    ['hangup', 'notFound', 'not exist'],
    ['hangup', 'normalClearing', ''],
    ['hangup', null, ''],
    ['hangup', 'forwarded', 'forwarded'],
    ['hangup', 'voicemail', 'voicemail'],
  ])('%s with cause %s is "%s"', (state, comment, expected) => {
    expect(statusText({ state, comment })).toBe(expected);
  });

  it('ignores the cause while the call is still going', () => {
    expect(statusText({ state: 'answer', comment: 'busy' })).toBe('connected');
  });
});

describe('formatDuration', () => {
  it.each<[number | null, string]>([
    [null, ''],
    [0, '0:00'],
    [5, '0:05'],
    [12, '0:12'],
    [59, '0:59'],
    [60, '1:00'],
    [65, '1:05'],
    [599, '9:59'],
    [3599, '59:59'],
    [3600, '1:00:00'],
    [3903, '1:05:03'],
    [36000 + 61, '10:01:01'],
    [12.9, '0:12'],
    [-1, ''],
    [Number.NaN, ''],
  ])('%s seconds → "%s"', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('formatTime', () => {
  const now = new Date(2024, 4, 6, 15, 30); // 6 May 2024 15:30 local

  it('shows only hours and minutes today', () => {
    expect(formatTime(new Date(2024, 4, 6, 9, 5).toISOString(), now)).toBe('09:05');
  });

  it('says yesterday', () => {
    expect(formatTime(new Date(2024, 4, 5, 23, 59).toISOString(), now)).toBe('Yesterday 23:59');
  });

  it('shows the date earlier this year', () => {
    expect(formatTime(new Date(2024, 0, 3, 8, 0).toISOString(), now)).toBe('3 Jan 08:00');
  });

  it('shows the year for older calls', () => {
    expect(formatTime(new Date(2023, 10, 30, 17, 45).toISOString(), now)).toBe('30 Nov 2023 17:45');
  });

  it('is empty for a missing or broken time', () => {
    expect(formatTime(null, now)).toBe('');
    expect(formatTime('not a time', now)).toBe('');
  });
});

describe('secondsSince', () => {
  it('counts whole seconds and never goes negative', () => {
    const since = '2024-05-06T10:00:00Z';
    expect(secondsSince(since, Date.parse(since) + 61_500)).toBe(61);
    expect(secondsSince(since, Date.parse(since) - 5_000)).toBe(0);
    expect(secondsSince('nonsense', Date.now())).toBeNull();
  });
});

describe('isOpenMissed', () => {
  it('is an inbound call that ended unanswered and is not done', () => {
    expect(isOpenMissed(makeMissedCall())).toBe(true);
  });

  it.each([
    ['answered', makeCall({ done: false })],
    ['done', makeMissedCall({ done: true })],
    ['outbound', makeMissedCall({ direction: 'out' })],
    ['still ringing', makeMissedCall({ state: 'newCall', comment: null })],
  ])('is not: %s', (_label, call) => {
    expect(isOpenMissed(call)).toBe(false);
  });
});

describe('remote party', () => {
  it('is the caller for inbound calls', () => {
    const call = makeCall({ direction: 'in', from_comment: 'Bettina Kunde', to_comment: 'Hotline' });
    expect(remoteNumber(call)).toBe(call.from);
    expect(remotePretty(call)).toBe(call.from_pretty);
    expect(remoteName(call)).toBe('Bettina Kunde');
  });

  it('is the callee for outbound calls', () => {
    const call = makeCall({ direction: 'out', from_comment: 'Anna', to_comment: null });
    expect(remoteNumber(call)).toBe(call.to);
    expect(remotePretty(call)).toBe(call.to_pretty);
    expect(remoteName(call)).toBeNull();
  });

  it('falls back to the raw number when there is no pretty one', () => {
    expect(remotePretty(makeCall({ from_pretty: '', from: '0301234' }))).toBe('0301234');
  });
});

describe('canMarkDone', () => {
  const created = '2024-05-06T10:00:00Z';
  const t = Date.parse(created);

  it('allows an ended call at once', () => {
    expect(canMarkDone({ state: 'hangup', created_at: created }, t + 1000)).toBe(true);
  });

  it('refuses a running call younger than a minute', () => {
    expect(canMarkDone({ state: 'newCall', created_at: created }, t + 59_000)).toBe(false);
    expect(canMarkDone({ state: 'answer', created_at: created }, t + 1000)).toBe(false);
  });

  it('allows a running call from one minute on', () => {
    expect(canMarkDone({ state: 'answer', created_at: created }, t + 60_000)).toBe(true);
  });
});

describe('connectionText', () => {
  it.each([
    ['unconfigured', null, 'Not set up'],
    ['connecting', null, 'Connecting…'],
    ['connected', 'ignored', 'Connected'],
    ['reconnecting', null, 'Reconnecting…'],
    ['offline', 'hub unreachable', 'Offline: hub unreachable'],
    ['offline', null, 'Offline'],
  ] as const)('%s (%s) → %s', (state, detail, expected) => {
    expect(connectionText(state, detail)).toBe(expected);
  });
});

describe('dialResultText', () => {
  it('names the provider that rings the agent', () => {
    expect(dialResultText({ via: 'placetel', number: '+49 30 1234567', caller_id: null, call_id: null })).toBe(
      'Placetel is ringing your phone for +49 30 1234567',
    );
    expect(dialResultText({ via: 'sipgate', number: '+4930', caller_id: null, call_id: null })).toBe(
      'sipgate is ringing your phone for +4930',
    );
  });

  it('tells about the tel: link', () => {
    expect(dialResultText({ via: 'tel', number: '+4930123', link: 'tel:+4930123' })).toBe(
      'Opened tel:+4930123 in your phone app',
    );
  });
});
