import { beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.fn();
const listen = vi.fn();
vi.mock('@tauri-apps/api/core', () => ({ invoke: (...args: unknown[]) => invoke(...args) }));
vi.mock('@tauri-apps/api/event', () => ({ listen: (...args: unknown[]) => listen(...args) }));

const ipc = await import('./ipc');

beforeEach(() => {
  invoke.mockReset();
  listen.mockReset();
  invoke.mockResolvedValue(null);
});

describe('commands', () => {
  it.each([
    ['status', () => ipc.status(), undefined],
    ['preferences', () => ipc.preferences(), undefined],
    ['embedded_info', () => ipc.embeddedInfo(), undefined],
    ['send_test_call', () => ipc.sendTestCall(), undefined],
    ['journal', () => ipc.journal('missed', 17), { filter: 'missed', before: 17 }],
    ['journal', () => ipc.journal('all'), { filter: 'all', before: null }],
    ['set_done', () => ipc.setDone(4, true), { id: 4, done: true }],
    ['mark_all_done', () => ipc.markAllDone([1, 2]), { ids: [1, 2] }],
    ['create_ticket', () => ipc.createTicket(9), { id: 9 }],
    ['team', () => ipc.team(), undefined],
    ['set_dnd', () => ipc.setDnd(false), { dnd: false }],
    ['dial', () => ipc.dial('+4930123'), { number: '+4930123' }],
    ['pending_dial', () => ipc.pendingDial(), undefined],
    ['answer_dial', () => ipc.answerDial(5, true), { id: 5, dial: true }],
    ['search_contacts', () => ipc.searchContacts('an'), { query: 'an' }],
    ['helpdesk', () => ipc.helpdesk(), undefined],
    ['open_link', () => ipc.openLink('https://support.example.com/#ticket/zoom/1'), {
      url: 'https://support.example.com/#ticket/zoom/1',
    }],
    ['popup_current', () => ipc.popupCurrent(), undefined],
    ['popup_dismiss', () => ipc.popupDismiss(3), { callId: 3 }],
    ['popup_shown', () => ipc.popupShown(7), { callId: 7 }],
  ] as const)('%s is invoked with its arguments', async (name, run, args) => {
    await run();
    expect(invoke).toHaveBeenCalledWith(name, args);
  });

  it('sends the whole preferences update under "update"', async () => {
    const update = {
      mode: 'remote',
      hub_url: 'https://hub.example.com',
      token: null,
      helpdesk_url: '',
      notifications: true,
      popup_on: 'ring',
      start_at_login: false,
      confirm_app_links: true,
    } as const;
    await ipc.savePreferences(update);
    expect(invoke).toHaveBeenCalledWith('save_preferences', { update });
  });

  it('rejects with a UiError', async () => {
    invoke.mockRejectedValueOnce({ code: 'not_allowed', message: 'That address is not allowed.' });
    await expect(ipc.openLink('https://evil.example')).rejects.toEqual({
      code: 'not_allowed',
      message: 'That address is not allowed.',
    });
    invoke.mockRejectedValueOnce('plain text failure');
    await expect(ipc.status()).rejects.toEqual({ code: 'error', message: 'plain text failure' });
  });
});

describe('events', () => {
  it('hands the payload to the handler', async () => {
    const unlisten = vi.fn();
    listen.mockResolvedValue(unlisten);
    const handler = vi.fn();
    const stop = await ipc.onTeamChanged(handler);
    expect(listen).toHaveBeenCalledWith('team-changed', expect.any(Function));
    const relay = listen.mock.calls[0][1] as (e: { payload: unknown }) => void;
    relay({ payload: [{ login: 'anna' }] });
    expect(handler).toHaveBeenCalledWith([{ login: 'anna' }]);
    stop();
    expect(unlisten).toHaveBeenCalled();
  });

  it.each([
    ['status', (h: () => void) => ipc.onStatus(h)],
    ['popup', (h: () => void) => ipc.onPopup(h)],
    ['journal-changed', (h: () => void) => ipc.onJournalChanged(h)],
    ['notice', (h: () => void) => ipc.onNotice(h)],
  ] as const)('listens to %s', async (name, subscribe) => {
    listen.mockResolvedValue(() => {});
    await subscribe(() => {});
    expect(listen).toHaveBeenCalledWith(name, expect.any(Function));
  });
});
