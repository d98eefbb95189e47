import { vi } from 'vitest';
import * as ipc from '../lib/ipc';

type Handler = (payload: never) => void;

const EVENT_FUNCTIONS = {
  status: 'onStatus',
  popup: 'onPopup',
  'journal-changed': 'onJournalChanged',
  'team-changed': 'onTeamChanged',
  notice: 'onNotice',
  'dial-prompt': 'onDialPrompt',
} as const;

export type EventName = keyof typeof EVENT_FUNCTIONS;

/**
 * Makes the mocked event subscriptions of the ipc module record their handlers, so a test can
 * emit events as the desktop shell would. The test file must mock '../lib/ipc' (or the
 * equivalent path) itself.
 */
export function fakeEvents() {
  const handlers = new Map<EventName, Set<Handler>>();
  for (const [name, fn] of Object.entries(EVENT_FUNCTIONS) as [EventName, (typeof EVENT_FUNCTIONS)[EventName]][]) {
    vi.mocked(ipc[fn]).mockImplementation(((handler: Handler) => {
      const set = handlers.get(name) ?? new Set<Handler>();
      set.add(handler);
      handlers.set(name, set);
      return Promise.resolve(() => {
        set.delete(handler);
      });
    }) as never);
  }
  return {
    emit(name: EventName, payload: unknown) {
      for (const handler of handlers.get(name) ?? []) (handler as (p: unknown) => void)(payload);
    },
    listeners(name: EventName): number {
      return handlers.get(name)?.size ?? 0;
    },
  };
}
