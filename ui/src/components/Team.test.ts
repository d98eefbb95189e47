import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import Team from './Team.svelte';
import { makePresence } from '../test/fixtures';

function row(login: string): HTMLElement {
  const found = screen.getAllByTestId('team-row').find((r) => r.dataset.login === login);
  if (!found) throw new Error(`no row for ${login}`);
  return found;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Team', () => {
  it('shows each agent with presence, do-not-disturb and out of office', () => {
    render(Team, {
      team: [
        makePresence({ login: 'anna', name: 'Anna Agent' }),
        makePresence({ login: 'bob', name: 'Bob Builder', online: false, out_of_office: true }),
        makePresence({ login: 'carla', name: 'Carla Call', dnd: true, role: 'admin' }),
      ],
      me: 'anna',
    });
    expect(screen.getAllByTestId('team-row').map((r) => r.dataset.login)).toEqual(['anna', 'bob', 'carla']);

    const anna = within(row('anna'));
    expect(anna.getByTestId('team-name').textContent).toBe('Anna Agent');
    expect(anna.getByTestId('team-online').textContent).toBe('Online');
    expect(anna.queryByTestId('team-dnd')).toBeNull();
    expect(anna.queryByTestId('team-ooo')).toBeNull();
    expect(row('anna').textContent).toContain('(you)');

    const bob = within(row('bob'));
    expect(bob.getByTestId('team-online').textContent).toBe('Offline');
    expect(bob.getByTestId('team-ooo').textContent).toBe('Out of office');
    expect(bob.queryByTestId('team-dnd')).toBeNull();

    const carla = within(row('carla'));
    expect(carla.getByTestId('team-dnd').textContent).toBe('Do not disturb');
    expect(row('carla').textContent).toContain('admin');
  });

  it('shows who is on a call with whom, for a ticking while', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2024-05-06T10:01:05Z'));
    render(Team, {
      team: [
        makePresence({
          login: 'anna',
          on_call: { call: 12, with: 'Bettina Kunde', since: '2024-05-06T10:00:00Z' },
        }),
        makePresence({ login: 'bob', name: 'Bob' }),
      ],
    });
    const anna = within(row('anna'));
    expect(anna.getByTestId('team-on-call').textContent).toContain('On a call with Bettina Kunde');
    expect(anna.getByTestId('team-call-duration').textContent).toBe('1:05');
    await vi.advanceTimersByTimeAsync(3000);
    expect(anna.getByTestId('team-call-duration').textContent).toBe('1:08');
    expect(within(row('bob')).getByTestId('team-on-call').textContent?.trim()).toBe('');
  });

  it('shows names with markup as text', () => {
    const evil = '<img src=x onerror=alert(1)>';
    render(Team, { team: [makePresence({ name: evil })] });
    expect(screen.getByTestId('team-name').textContent).toBe(evil);
    expect(document.querySelector('img')).toBeNull();
  });

  it('says why the team is missing', () => {
    render(Team, { team: [], error: 'Not connected.' });
    expect(screen.getByTestId('team-error').textContent).toContain('Not connected.');
  });
});
