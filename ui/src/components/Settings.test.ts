import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import * as ipc from '../lib/ipc';
import Settings from './Settings.svelte';
import type { EmbeddedInfo, HelpdeskStatus, Preferences } from '../lib/types';

vi.mock('../lib/ipc');

const remotePrefs = (overrides: Partial<Preferences> = {}): Preferences => ({
  mode: 'remote',
  hub_url: 'https://hub.example.com',
  has_token: true,
  helpdesk_url: 'https://support.example.com',
  notifications: true,
  popup_on: 'ring',
  start_at_login: false,
  confirm_app_links: true,
  ...overrides,
});

const info: EmbeddedInfo = {
  hub_url: 'http://127.0.0.1:8642',
  webhooks: [
    { provider: 'generic', label: 'Generic CTI', url: 'http://127.0.0.1:8642/api/v1/cti/generic/abc' },
    { provider: 'placetel', label: 'Placetel', url: 'http://127.0.0.1:8642/api/v1/cti/placetel/abc' },
  ],
  notes: ['The phone system must reach this computer.'],
};

const zammad = (overrides: Partial<HelpdeskStatus> = {}): HelpdeskStatus => ({
  kind: 'zammad',
  url: 'https://zammad.example.com',
  connection: { state: 'up', since: null, last_error: null },
  sync: true,
  last_sync: null,
  last_sync_error: null,
  users: 120,
  organizations: 1,
  numbers: 180,
  relay: true,
  relay_pending: 3,
  relay_failed: 1,
  ...overrides,
});

function byTestId<T extends HTMLElement>(id: string): T {
  return screen.getByTestId(id) as T;
}

async function renderSettings(prefs: Preferences) {
  vi.mocked(ipc.preferences).mockResolvedValue(prefs);
  render(Settings);
  await screen.findByTestId('settings-save');
}

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.embeddedInfo).mockResolvedValue(info);
});

afterEach(() => {
  Reflect.deleteProperty(navigator, 'clipboard');
});

describe('Settings', () => {
  it('shows the stored preferences', async () => {
    await renderSettings(remotePrefs({ popup_on: 'answer', start_at_login: true, notifications: false }));
    expect(byTestId<HTMLInputElement>('settings-mode-remote').checked).toBe(true);
    expect(byTestId<HTMLInputElement>('settings-mode-embedded').checked).toBe(false);
    expect(byTestId<HTMLInputElement>('settings-hub-url').value).toBe('https://hub.example.com');
    expect(byTestId<HTMLInputElement>('settings-token').value).toBe('');
    expect(byTestId<HTMLInputElement>('settings-token').type).toBe('password');
    expect(byTestId<HTMLInputElement>('settings-token').placeholder).toContain('stored in the system keyring');
    expect(byTestId<HTMLInputElement>('settings-helpdesk-url').value).toBe('https://support.example.com');
    expect(byTestId<HTMLInputElement>('settings-notifications').checked).toBe(false);
    expect(byTestId<HTMLSelectElement>('settings-popup-on').value).toBe('answer');
    expect(byTestId<HTMLInputElement>('settings-start-at-login').checked).toBe(true);
    expect(ipc.embeddedInfo).not.toHaveBeenCalled();
  });

  it('offers the popup choices in words', async () => {
    await renderSettings(remotePrefs());
    const options = [...byTestId<HTMLSelectElement>('settings-popup-on').options].map((o) => [o.value, o.text]);
    expect(options).toEqual([
      ['ring', 'When a call rings'],
      ['answer', 'When I answer'],
      ['never', 'Never (click-to-dial only)'],
    ]);
  });

  it('keeps the stored token when the field is left empty', async () => {
    const saved = remotePrefs({ popup_on: 'never' });
    vi.mocked(ipc.savePreferences).mockResolvedValue(saved);
    await renderSettings(remotePrefs());
    await fireEvent.change(byTestId('settings-popup-on'), { target: { value: 'never' } });
    await fireEvent.click(byTestId('settings-start-at-login'));
    await fireEvent.click(byTestId('settings-confirm-app-links'));
    await fireEvent.click(byTestId('settings-save'));
    expect(ipc.savePreferences).toHaveBeenCalledWith({
      mode: 'remote',
      hub_url: 'https://hub.example.com',
      token: null,
      helpdesk_url: 'https://support.example.com',
      notifications: true,
      popup_on: 'never',
      start_at_login: true,
      confirm_app_links: false,
    });
    expect((await screen.findByTestId('settings-message')).textContent).toBe('Settings saved.');
  });

  it('sends a new token and clears the field after saving', async () => {
    vi.mocked(ipc.savePreferences).mockResolvedValue(remotePrefs({ hub_url: 'https://ringside.example.org' }));
    await renderSettings(remotePrefs({ has_token: false, hub_url: '' }));
    expect(byTestId<HTMLInputElement>('settings-token').placeholder).not.toContain('stored in the system keyring');
    await fireEvent.input(byTestId('settings-hub-url'), { target: { value: ' https://ringside.example.org ' } });
    await fireEvent.input(byTestId('settings-token'), { target: { value: 'rs_secret_token' } });
    await fireEvent.click(byTestId('settings-save'));
    expect(ipc.savePreferences).toHaveBeenCalledWith(
      expect.objectContaining({ mode: 'remote', hub_url: 'https://ringside.example.org', token: 'rs_secret_token' }),
    );
    await waitFor(() => expect(byTestId<HTMLInputElement>('settings-token').value).toBe(''));
    expect(byTestId<HTMLInputElement>('settings-token').placeholder).toContain('stored in the system keyring');
  });

  it('shows why saving failed', async () => {
    vi.mocked(ipc.savePreferences).mockRejectedValue({ code: 'bad_url', message: 'The hub did not answer.' });
    await renderSettings(remotePrefs());
    await fireEvent.click(byTestId('settings-save'));
    const message = await screen.findByTestId('settings-message');
    expect(message.textContent).toBe('The hub did not answer.');
    expect(message.dataset.level).toBe('error');
  });

  it('shows the stored choice about phone links in the app', async () => {
    await renderSettings(remotePrefs({ confirm_app_links: false }));
    expect(byTestId<HTMLInputElement>('settings-confirm-app-links').checked).toBe(false);
  });

  it('marks the hub address when the app refuses plain http to another machine', async () => {
    const reason = 'http://hub.lan:8642 is plain http on another machine: the token would cross the network unencrypted.';
    vi.mocked(ipc.savePreferences).mockRejectedValue({ code: 'plain_http_hub', message: reason });
    await renderSettings(remotePrefs());
    expect(byTestId('settings-hub-url').getAttribute('aria-invalid')).toBe('false');
    await fireEvent.input(byTestId('settings-hub-url'), { target: { value: 'http://hub.lan:8642' } });
    await fireEvent.click(byTestId('settings-save'));
    const message = await screen.findByTestId('settings-message');
    expect(message.textContent).toBe(reason);
    expect(message.dataset.level).toBe('error');
    expect(byTestId('settings-hub-url').getAttribute('aria-invalid')).toBe('true');
    await fireEvent.input(byTestId('settings-hub-url'), { target: { value: 'https://hub.lan' } });
    expect(byTestId('settings-hub-url').getAttribute('aria-invalid')).toBe('false');
  });

  it('asks for a hub address before saving remote mode', async () => {
    await renderSettings(remotePrefs({ hub_url: '' }));
    await fireEvent.click(byTestId('settings-save'));
    expect(byTestId('settings-message').textContent).toMatch(/hub's address/);
    expect(ipc.savePreferences).not.toHaveBeenCalled();
  });

  it("takes the addresses of a hub's nodes and refuses one that is not http(s)", async () => {
    vi.mocked(ipc.savePreferences).mockResolvedValue(remotePrefs({ hub_url: 'https://a.example, https://b.example' }));
    await renderSettings(remotePrefs());
    await fireEvent.input(byTestId('settings-hub-url'), { target: { value: 'https://a.example, ftp://b.example' } });
    await fireEvent.click(byTestId('settings-save'));
    expect(byTestId('settings-message').textContent).toMatch(/Each of the hub's addresses/);
    expect(ipc.savePreferences).not.toHaveBeenCalled();
    await fireEvent.input(byTestId('settings-hub-url'), { target: { value: 'https://a.example, https://b.example' } });
    await fireEvent.click(byTestId('settings-save'));
    expect(ipc.savePreferences).toHaveBeenCalledWith(
      expect.objectContaining({ hub_url: 'https://a.example, https://b.example' }),
    );
  });

  it('switches to the embedded hub without sending a token', async () => {
    vi.mocked(ipc.savePreferences).mockResolvedValue(remotePrefs({ mode: 'embedded' }));
    await renderSettings(remotePrefs());
    await fireEvent.input(byTestId('settings-token'), { target: { value: 'typed but abandoned' } });
    await fireEvent.click(byTestId('settings-mode-embedded'));
    expect(screen.queryByTestId('settings-hub-url')).toBeNull();
    expect(screen.queryByTestId('settings-token')).toBeNull();
    await fireEvent.click(byTestId('settings-save'));
    expect(ipc.savePreferences).toHaveBeenCalledWith(expect.objectContaining({ mode: 'embedded', token: null }));
    expect(await screen.findAllByTestId('webhook-url')).toHaveLength(2);
  });

  it('shows the embedded hub with its webhook addresses and notes', async () => {
    await renderSettings(remotePrefs({ mode: 'embedded' }));
    const urls = await screen.findAllByTestId('webhook-url');
    expect(urls.map((u) => [u.dataset.provider, u.textContent])).toEqual([
      ['generic', 'http://127.0.0.1:8642/api/v1/cti/generic/abc'],
      ['placetel', 'http://127.0.0.1:8642/api/v1/cti/placetel/abc'],
    ]);
    expect(screen.getByTestId('embedded-hub-url').textContent).toBe('http://127.0.0.1:8642');
    expect(screen.getByText('The phone system must reach this computer.')).toBeTruthy();
    expect(screen.queryByTestId('settings-hub-url')).toBeNull();
    expect(screen.queryByTestId('copy-webhook')).toBeNull();
  });

  it('copies a webhook address when the clipboard is available', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await renderSettings(remotePrefs({ mode: 'embedded' }));
    const copies = await screen.findAllByTestId('copy-webhook');
    await fireEvent.click(copies[1]);
    expect(writeText).toHaveBeenCalledWith('http://127.0.0.1:8642/api/v1/cti/placetel/abc');
    await waitFor(() => expect(copies[1].textContent?.trim()).toBe('Copied'));
  });

  it('sends a test call and shows the answer', async () => {
    vi.mocked(ipc.sendTestCall).mockResolvedValueOnce('Test call sent from +49 30 1234567');
    await renderSettings(remotePrefs({ mode: 'embedded' }));
    await fireEvent.click(await screen.findByTestId('send-test-call'));
    expect(ipc.sendTestCall).toHaveBeenCalledTimes(1);
    expect((await screen.findByTestId('test-call-result')).textContent).toBe('Test call sent from +49 30 1234567');

    vi.mocked(ipc.sendTestCall).mockRejectedValueOnce({ code: 'hub', message: 'The hub is not running.' });
    await fireEvent.click(screen.getByTestId('send-test-call'));
    await waitFor(() => expect(screen.getByTestId('test-call-result').textContent).toBe('The hub is not running.'));
    expect(screen.getByTestId('test-call-result').dataset.level).toBe('error');
  });

  it("shows the help desk's connection, last sync and relay backlog", async () => {
    vi.mocked(ipc.helpdesk).mockResolvedValue(zammad());
    await renderSettings(remotePrefs());
    const connection = await screen.findByTestId('helpdesk-connection');
    expect(connection.textContent).toBe('Zammad at https://zammad.example.com: connected');
    expect(connection.dataset.state).toBe('up');
    expect(screen.queryByTestId('helpdesk-error')).toBeNull();
    expect(byTestId('helpdesk-sync').textContent).toBe('Not synced yet: 120 users, 1 organization, 180 numbers');
    expect(byTestId('helpdesk-relay').textContent).toBe('Caller log: 3 events waiting, 1 refused');
  });

  it('shows the help desk down with its error as text, and checks again on demand', async () => {
    const error = 'Zammad at https://zammad.example.com/ could not be reached: <b>Connection refused</b>';
    vi.mocked(ipc.helpdesk).mockResolvedValueOnce(
      zammad({
        connection: { state: 'down', since: new Date().toISOString(), last_error: error },
        relay: false,
        last_sync: new Date().toISOString(),
      }),
    );
    await renderSettings(remotePrefs());
    const connection = await screen.findByTestId('helpdesk-connection');
    expect(connection.dataset.state).toBe('down');
    expect(connection.textContent).toMatch(
      /^Zammad at https:\/\/zammad\.example\.com: unreachable: popups show the tickets kept from earlier calls \(since \d\d:\d\d\)$/,
    );
    const shown = byTestId('helpdesk-error');
    expect(shown.textContent).toBe(error);
    expect(shown.querySelector('b')).toBeNull();
    expect(byTestId('helpdesk-sync').textContent).toMatch(/^Last sync \d\d:\d\d: 120 users/);
    expect(byTestId('helpdesk-relay').textContent).toBe('Calls are not forwarded to its caller log.');

    vi.mocked(ipc.helpdesk).mockResolvedValueOnce(zammad());
    await fireEvent.click(byTestId('helpdesk-refresh'));
    await waitFor(() => expect(byTestId('helpdesk-connection').dataset.state).toBe('up'));
    expect(screen.queryByTestId('helpdesk-error')).toBeNull();
  });

  it('says when the hub has no help desk or its state cannot be read', async () => {
    vi.mocked(ipc.helpdesk).mockResolvedValueOnce(zammad({ kind: 'none', url: null, sync: false, relay: false }));
    await renderSettings(remotePrefs());
    expect((await screen.findByTestId('helpdesk-none')).textContent).toBe('The hub has no help desk configured.');

    vi.mocked(ipc.helpdesk).mockRejectedValueOnce({ code: 'unreachable', message: 'The hub did not answer.' });
    await fireEvent.click(byTestId('helpdesk-refresh'));
    const failed = await screen.findByTestId('helpdesk-load-error');
    expect(failed.textContent?.trim()).toBe("Could not read the help desk's state from the hub: The hub did not answer.");
  });

  it('says when the settings cannot be read', async () => {
    vi.mocked(ipc.preferences).mockRejectedValueOnce({ code: 'io', message: 'Settings file is broken.' });
    render(Settings);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Settings file is broken.');
    vi.mocked(ipc.preferences).mockResolvedValue(remotePrefs());
    await fireEvent.click(within(alert).getByRole('button'));
    await screen.findByTestId('settings-save');
  });
});
