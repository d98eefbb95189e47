// The help desk's state as Settings shows it, in words: whether it answers, the last sync
// and what it brought, and the relay's backlog.
import { formatTime } from './format';
import type { HelpdeskState, HelpdeskStatus } from './types';

const NAMES: Record<HelpdeskStatus['kind'], string> = { none: 'No help desk', zammad: 'Zammad' };

const STATES: Record<HelpdeskState, string> = {
  unknown: 'not asked yet',
  up: 'connected',
  slow: 'slow: popups show the tickets kept from earlier calls',
  down: 'unreachable: popups show the tickets kept from earlier calls',
};

/** Whether the connection state is a problem worth the last error next to it. */
export function helpdeskTroubled(status: HelpdeskStatus): boolean {
  return status.connection.state === 'slow' || status.connection.state === 'down';
}

/** `Zammad at https://…: connected since 14:05`. */
export function connectionLine(status: HelpdeskStatus, now: Date = new Date()): string {
  const at = status.url ? ` at ${status.url}` : '';
  const since = formatTime(status.connection.since, now);
  return `${NAMES[status.kind]}${at}: ${STATES[status.connection.state]}${since ? ` (since ${since})` : ''}`;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `Last sync 14:03: 120 users, 4 organizations, 180 numbers`, or why there is none. */
export function syncLine(status: HelpdeskStatus, now: Date = new Date()): string {
  if (!status.sync) return 'Customers are not synced (the hub has no API token for it).';
  const counts = [
    count(status.users, 'user', 'users'),
    count(status.organizations, 'organization', 'organizations'),
    count(status.numbers, 'number', 'numbers'),
  ].join(', ');
  const last = formatTime(status.last_sync, now);
  return last ? `Last sync ${last}: ${counts}` : `Not synced yet: ${counts}`;
}

/** `Caller log: 3 events waiting, 1 refused`, or that the relay is off. */
export function relayLine(status: HelpdeskStatus): string {
  if (!status.relay) return 'Calls are not forwarded to its caller log.';
  if (status.relay_pending === 0 && status.relay_failed === 0) return 'Caller log: up to date';
  return `Caller log: ${count(status.relay_pending, 'event', 'events')} waiting, ${status.relay_failed} refused`;
}
