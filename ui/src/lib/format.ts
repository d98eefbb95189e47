import type { Call, ConnectionState, DialResult } from './types';
import { PROVIDER_NAMES } from './types';

/** Status text of a call as Zammad's caller log shows it. */
export function statusText(call: Pick<Call, 'state' | 'comment'>): string {
  switch (call.state) {
    case 'newCall':
      return 'ringing';
    case 'answer':
      return 'connected';
    case 'hangup':
      switch (call.comment) {
        case 'cancel':
        case 'noAnswer':
        case 'congestion':
          return 'not reached';
        case 'busy':
          return 'busy';
        case 'notFound':
          return 'not exist';
        case 'normalClearing':
        case null:
          return '';
        default:
          return call.comment ?? '';
      }
    default:
      return '';
  }
}

/** A duration in seconds as `m:ss`, or `h:mm:ss` from one hour on; empty when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

/** Seconds elapsed since an RFC 3339 time, never negative; null if the time is unreadable. */
export function secondsSince(since: string, now: number): number | null {
  const start = Date.parse(since);
  if (Number.isNaN(start)) return null;
  return Math.max(0, Math.floor((now - start) / 1000));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * A time in local time: `14:05` today, `Yesterday 14:05`, `3 Nov 14:05` this year and
 * `3 Nov 2023 14:05` before.
 */
export function formatTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const hm = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
  if (sameLocalDay(t, now)) return hm;
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameLocalDay(t, yesterday)) return `Yesterday ${hm}`;
  const day = `${t.getDate()} ${MONTHS[t.getMonth()]}`;
  if (t.getFullYear() === now.getFullYear()) return `${day} ${hm}`;
  return `${day} ${t.getFullYear()} ${hm}`;
}

/** When the call began (first event), as RFC 3339. */
export function callTime(call: Pick<Call, 'initialized_at' | 'created_at'>): string {
  return call.initialized_at ?? call.created_at;
}

/** An inbound call that ended without being answered and that nobody has marked done. */
export function isOpenMissed(call: Pick<Call, 'direction' | 'state' | 'start_at' | 'done'>): boolean {
  return call.direction === 'in' && call.state === 'hangup' && call.start_at === null && !call.done;
}

/** An inbound call that ended without being answered, done or not. */
export function isMissed(call: Pick<Call, 'direction' | 'state' | 'start_at'>): boolean {
  return call.direction === 'in' && call.state === 'hangup' && call.start_at === null;
}

/** The number of the other party: the caller for inbound calls, the callee for outbound ones. */
export function remoteNumber(call: Pick<Call, 'direction' | 'from' | 'to'>): string {
  return call.direction === 'in' ? call.from : call.to;
}

/** The other party's number formatted for people. */
export function remotePretty(
  call: Pick<Call, 'direction' | 'from' | 'to' | 'from_pretty' | 'to_pretty'>,
): string {
  const pretty = call.direction === 'in' ? call.from_pretty : call.to_pretty;
  return pretty || remoteNumber(call);
}

/** The other party's name as the help desk knows it, if any. */
export function remoteName(call: Pick<Call, 'direction' | 'from_comment' | 'to_comment'>): string | null {
  const name = call.direction === 'in' ? call.from_comment : call.to_comment;
  return name && name.trim() !== '' ? name : null;
}

/** Zammad's rule: a journal entry younger than a minute can only be marked done once it has ended. */
export function canMarkDone(call: Pick<Call, 'state' | 'created_at'>, now: number): boolean {
  if (call.state === 'hangup') return true;
  const created = Date.parse(call.created_at);
  if (Number.isNaN(created)) return true;
  return now - created >= 60_000;
}

export function connectionText(state: ConnectionState | null | undefined, detail: string | null | undefined): string {
  switch (state) {
    case 'unconfigured':
      return 'Not set up';
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'offline':
      return detail ? `Offline: ${detail}` : 'Offline';
    default:
      return 'Connecting…';
  }
}

/** What happened after a click-to-dial. */
export function dialResultText(result: DialResult): string {
  if (result.via === 'tel') {
    return `Opened ${result.link} in your phone app`;
  }
  return `${PROVIDER_NAMES[result.via]} is ringing your phone for ${result.number}`;
}
