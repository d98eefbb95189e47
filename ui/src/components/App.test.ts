import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import * as ipc from '../lib/ipc';
import App from './App.svelte';
import { fakeEvents } from '../test/events';
import { makePresence } from '../test/fixtures';
import type { AppStatus, ConnectionState, DialPrompt } from '../lib/types';

vi.mock('../lib/ipc');

const me = makePresence({ login: 'anna', name: 'Anna Agent' });

const status = (overrides: Partial<AppStatus> = {}): AppStatus => ({
  mode: 'remote',
  connection: 'connected',
  detail: null,
  me,
  hub_url: 'https://hub.example.com',
  helpdesk_url: null,
  app_version: '0.1.0',
  hub_version: '0.1.0',
  hub_warning: null,
  ...overrides,
});

let events: ReturnType<typeof fakeEvents>;

beforeEach(() => {
  vi.resetAllMocks();
  events = fakeEvents();
  vi.mocked(ipc.status).mockResolvedValue(status());
  vi.mocked(ipc.journal).mockResolvedValue({ entries: [], next_before: null });
  vi.mocked(ipc.team).mockResolvedValue([me]);
  vi.mocked(ipc.pendingDial).mockResolvedValue(null);
  vi.mocked(ipc.preferences).mockResolvedValue({
    mode: 'remote',
    hub_url: 'https://hub.example.com',
    has_token: true,
    helpdesk_url: '',
    notifications: true,
    popup_on: 'ring',
    start_at_login: false,
    confirm_app_links: true,
  });
});

async function renderApp() {
  const result = render(App);
  await waitFor(() => expect(screen.getByTestId('connection').dataset.state).toBe('connected'));
  return result;
}

function dnd(): HTMLInputElement {
  return screen.getByTestId('dnd-toggle') as HTMLInputElement;
}

describe('App', () => {
  it.each<[ConnectionState, string | null, string]>([
    ['connected', null, 'Connected'],
    ['connecting', null, 'Connecting…'],
    ['reconnecting', null, 'Reconnecting…'],
    ['offline', 'The hub did not answer', 'Offline: The hub did not answer'],
    ['unconfigured', null, 'Not set up'],
  ])('shows the connection as %s', async (connection, detail, text) => {
    await renderApp();
    events.emit('status', status({ connection, detail }));
    await tick();
    const badge = screen.getByTestId('connection');
    expect(badge.dataset.state).toBe(connection);
    expect(badge.textContent?.trim()).toBe(text);
  });

  it('shows an offline badge when the status cannot be read', async () => {
    vi.mocked(ipc.status).mockRejectedValue({ code: 'x', message: 'No shell' });
    render(App);
    await waitFor(() => expect(screen.getByTestId('connection').textContent?.trim()).toBe('Offline: No shell'));
  });

  it('switches tabs', async () => {
    await renderApp();
    expect(screen.getByTestId('tab-journal').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('hour-chart')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('tab-team'));
    expect(screen.getByTestId('tab-team').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('tab-journal').getAttribute('aria-selected')).toBe('false');
    expect(await screen.findAllByTestId('team-row')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('tab-dial'));
    expect(screen.getByTestId('dial-number')).toBeTruthy();

    await fireEvent.click(screen.getByTestId('tab-settings'));
    expect(await screen.findByTestId('settings-save')).toBeTruthy();
  });

  it('says when the hub is older than the app supports, and the versions in Settings', async () => {
    await renderApp();
    expect(screen.queryByTestId('hub-warning')).toBeNull();
    const warning = 'the hub is version 0.0.9, older than this app supports (0.1.0 or newer); ask the admin to update it';
    events.emit('status', status({ hub_version: '0.0.9', hub_warning: warning }));
    await tick();
    expect(screen.getByTestId('hub-warning').textContent?.trim()).toBe(warning);
    expect(screen.getByTestId('hub-warning').getAttribute('role')).toBe('alert');

    await fireEvent.click(screen.getByTestId('tab-settings'));
    const versions = await screen.findByTestId('settings-versions');
    expect(versions.textContent?.trim()).toBe('Ringside 0.1.0 · hub 0.0.9');
    events.emit('status', status({ hub_version: null }));
    await tick();
    expect(screen.getByTestId('settings-versions').textContent?.trim()).toBe(
      'Ringside 0.1.0 · hub version not known yet',
    );
    expect(screen.queryByTestId('hub-warning')).toBeNull();
  });

  it('keeps the team up to date from events', async () => {
    await renderApp();
    await fireEvent.click(screen.getByTestId('tab-team'));
    await screen.findAllByTestId('team-row');
    events.emit('team-changed', [me, makePresence({ login: 'bob', name: 'Bob', dnd: true })]);
    await tick();
    expect(screen.getAllByTestId('team-row').map((r) => r.dataset.login)).toEqual(['anna', 'bob']);
  });

  it('reflects do-not-disturb from status events', async () => {
    await renderApp();
    expect(dnd().checked).toBe(false);
    events.emit('status', status({ me: { ...me, dnd: true } }));
    await tick();
    expect(dnd().checked).toBe(true);
    events.emit('status', status({ me: { ...me, dnd: false } }));
    await tick();
    expect(dnd().checked).toBe(false);
  });

  it('turns do-not-disturb on', async () => {
    vi.mocked(ipc.setDnd).mockResolvedValue({ ...me, dnd: true });
    await renderApp();
    await fireEvent.click(dnd());
    expect(ipc.setDnd).toHaveBeenCalledWith(true);
    await tick();
    expect(dnd().checked).toBe(true);
    await fireEvent.click(dnd());
    expect(ipc.setDnd).toHaveBeenLastCalledWith(false);
  });

  it('turns do-not-disturb back and says why when it fails', async () => {
    let refuse!: (e: unknown) => void;
    vi.mocked(ipc.setDnd).mockReturnValue(new Promise((_, reject) => (refuse = reject)));
    await renderApp();
    await fireEvent.click(dnd());
    expect(ipc.setDnd).toHaveBeenCalledWith(true);
    expect(dnd().checked).toBe(true);
    refuse({ code: 'offline', message: 'Not connected to the hub.' });
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toContain('Not connected to the hub.'));
    expect(dnd().checked).toBe(false);
    expect(screen.getByTestId('notice').dataset.level).toBe('error');

    // The next click tries again to turn it on.
    vi.mocked(ipc.setDnd).mockResolvedValue({ ...me, dnd: true });
    await fireEvent.click(dnd());
    expect(ipc.setDnd).toHaveBeenLastCalledWith(true);
    await waitFor(() => expect(dnd().checked).toBe(true));
  });

  it('cannot toggle do-not-disturb before knowing who I am', async () => {
    vi.mocked(ipc.status).mockResolvedValue(status({ connection: 'unconfigured', me: null }));
    render(App);
    await waitFor(() => expect(screen.getByTestId('connection').dataset.state).toBe('unconfigured'));
    expect(dnd().disabled).toBe(true);
  });

  it('shows notices from the shell, and lets them be dismissed', async () => {
    await renderApp();
    events.emit('notice', { level: 'info', message: 'Placetel is ringing your phone for +49 30 1234567' });
    await tick();
    const notice = screen.getByTestId('notice');
    expect(notice.textContent).toContain('Placetel is ringing your phone for +49 30 1234567');
    expect(notice.dataset.level).toBe('info');
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.getByTestId('notice').textContent?.trim()).toBe('');
  });

  it('shows notices with markup as text', async () => {
    await renderApp();
    const evil = '<img src=x onerror=alert(1)>';
    events.emit('notice', { level: 'error', message: evil });
    await tick();
    expect(screen.getByTestId('notice').textContent).toContain(evil);
    expect(document.querySelector('img')).toBeNull();
  });

  it('asks before a phone link is dialed, and shows the next waiting one', async () => {
    const first: DialPrompt = {
      id: 1,
      number: '030609854180',
      number_pretty: '+49 30 609854180',
      contact: 'Carla Customer',
      organization: null,
      origin: 'desktop',
    };
    const second: DialPrompt = { ...first, id: 2, number: '0401', number_pretty: '0401', contact: null };
    vi.mocked(ipc.answerDial).mockResolvedValueOnce(second).mockResolvedValueOnce(null);
    await renderApp();
    expect(screen.queryByTestId('dial-prompt')).toBeNull();
    events.emit('dial-prompt', first);
    await tick();
    expect(screen.getByTestId('dial-prompt-contact').textContent).toBe('Carla Customer');
    await fireEvent.keyDown(window, { key: 'Enter' });
    expect(ipc.answerDial).toHaveBeenCalledWith(1, true);
    await waitFor(() => expect(screen.getByTestId('dial-prompt-number').textContent).toBe('0401'));
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(ipc.answerDial).toHaveBeenLastCalledWith(2, false);
    await waitFor(() => expect(screen.queryByTestId('dial-prompt')).toBeNull());
  });

  it('shows the prompt that waited while the window was closed', async () => {
    vi.mocked(ipc.pendingDial).mockResolvedValue({
      id: 9,
      number: '+4930609854180',
      number_pretty: '+49 30 609854180',
      contact: null,
      organization: null,
      origin: 'desktop',
    });
    await renderApp();
    expect((await screen.findByTestId('dial-prompt-number')).textContent).toBe('+49 30 609854180');
  });

  it('points to the settings while not set up', async () => {
    vi.mocked(ipc.status).mockResolvedValue(status({ connection: 'unconfigured', me: null }));
    render(App);
    const link = await screen.findByRole('button', { name: 'Open settings' });
    await fireEvent.click(link);
    expect(screen.getByTestId('tab-settings').getAttribute('aria-selected')).toBe('true');
  });
});

describe('App tabs by keyboard', () => {
  it('moves between tabs with the arrow keys', async () => {
    render(App);
    await fireEvent.keyDown(screen.getByTestId('tab-journal'), { key: 'ArrowRight' });
    expect(screen.getByTestId('tab-team').getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(screen.getByTestId('tab-team'));
    await fireEvent.keyDown(screen.getByTestId('tab-team'), { key: 'ArrowLeft' });
    await fireEvent.keyDown(screen.getByTestId('tab-journal'), { key: 'ArrowLeft' });
    expect(screen.getByTestId('tab-settings').getAttribute('aria-selected')).toBe('true');
  });
});
