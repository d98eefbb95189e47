// The only module that talks to the desktop shell. Components import these typed wrappers,
// so tests can replace the whole module with mocks.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { toUiError } from './errors';
import type {
  AppStatus,
  Call,
  CallTicket,
  ContactCard,
  ContactHit,
  DialPrompt,
  DialResult,
  EmbeddedInfo,
  HelpdeskStatus,
  JournalFilter,
  JournalPage,
  Notice,
  PopupView,
  Preferences,
  PreferencesUpdate,
  Presence,
} from './types';

export type { UnlistenFn };

/** Runs a command; a failure rejects with a `UiError`. */
async function command<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(name, args);
  } catch (error) {
    throw toUiError(error);
  }
}

function on<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}

// Commands

export const status = (): Promise<AppStatus> => command('status');

export const preferences = (): Promise<Preferences> => command('preferences');

export const savePreferences = (update: PreferencesUpdate): Promise<Preferences> =>
  command('save_preferences', { update });

export const embeddedInfo = (): Promise<EmbeddedInfo | null> => command('embedded_info');

export const sendTestCall = (): Promise<string> => command('send_test_call');

export const journal = (filter: JournalFilter, before: number | null = null): Promise<JournalPage> =>
  command('journal', { filter, before });

export const setDone = (id: number, done: boolean): Promise<Call> => command('set_done', { id, done });

export const markAllDone = (ids: number[]): Promise<number> => command('mark_all_done', { ids });

/** Logs journal entry `id` as a help-desk ticket now (or gets the one it has). */
export const createTicket = (id: number): Promise<CallTicket> => command('create_ticket', { id });

export const team = (): Promise<Presence[]> => command('team');

export const setDnd = (dnd: boolean): Promise<Presence> => command('set_dnd', { dnd });

export const dial = (number: string): Promise<DialResult> => command('dial', { number });

/** The phone link waiting for the agent's confirmation, if any. */
export const pendingDial = (): Promise<DialPrompt | null> => command('pending_dial');

/** Answers dial prompt `id` (`dial`: Enter, not: Esc); resolves to the next prompt, if any. */
export const answerDial = (id: number, dial: boolean): Promise<DialPrompt | null> =>
  command('answer_dial', { id, dial });

export const searchContacts = (query: string): Promise<ContactHit[]> =>
  command('search_contacts', { query });

/** The help desk's connection, last sync and relay backlog, as the hub reports them. */
export const helpdesk = (): Promise<HelpdeskStatus> => command('helpdesk');

export const openLink = (url: string): Promise<null> => command('open_link', { url });

/** Creates the customer of call `callId`'s unknown caller in the hub's help desk. */
export const createCustomer = (callId: number): Promise<ContactCard> => command('create_customer', { callId });

export const popupCurrent = (): Promise<PopupView | null> => command('popup_current');

export const popupDismiss = (callId: number): Promise<null> => command('popup_dismiss', { callId });
/** The popup painted a new call: the app logs it, which measures webhook-to-screen time. */
export const popupShown = (callId: number): Promise<null> => command('popup_shown', { callId });

// Events

export const onStatus = (handler: (status: AppStatus) => void): Promise<UnlistenFn> =>
  on('status', handler);

export const onPopup = (handler: (view: PopupView | null) => void): Promise<UnlistenFn> =>
  on('popup', handler);

export const onJournalChanged = (handler: () => void): Promise<UnlistenFn> =>
  on<null>('journal-changed', () => handler());

export const onTeamChanged = (handler: (team: Presence[]) => void): Promise<UnlistenFn> =>
  on('team-changed', handler);

export const onDialPrompt = (handler: (prompt: DialPrompt | null) => void): Promise<UnlistenFn> =>
  on('dial-prompt', handler);

export const onNotice = (handler: (notice: Notice) => void): Promise<UnlistenFn> =>
  on('notice', handler);
