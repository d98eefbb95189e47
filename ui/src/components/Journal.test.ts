import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import * as ipc from '../lib/ipc';
import Journal from './Journal.svelte';
import { fakeEvents } from '../test/events';
import { makeCall, makeContact, makeMissedCall } from '../test/fixtures';
import type { Call, JournalPage } from '../lib/types';

vi.mock('../lib/ipc');

const page = (entries: Call[], next_before: number | null = null): JournalPage => ({ entries, next_before });

function rows(): HTMLElement[] {
  return screen.queryAllByTestId('journal-row');
}

function row(id: number): HTMLElement {
  const found = rows().find((r) => r.dataset.callId === String(id));
  if (!found) throw new Error(`no row for call ${id}`);
  return found;
}

async function renderJournal(entries: Call[], props: Record<string, unknown> = {}) {
  vi.mocked(ipc.journal).mockResolvedValue(page(entries));
  const result = render(Journal, props);
  await waitFor(() => expect(ipc.journal).toHaveBeenCalled());
  await tick();
  return result;
}

let events: ReturnType<typeof fakeEvents>;

beforeEach(() => {
  vi.resetAllMocks();
  events = fakeEvents();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Journal', () => {
  it('shows the entries in the order given, with party, status and durations', async () => {
    const calls = [
      makeCall({ id: 3, from_comment: 'Bettina Kunde', duration_waiting_time: 12, duration_talking_time: 3903 }),
      makeMissedCall({ id: 2, comment: 'busy', from_pretty: '+49 89 555', duration_waiting_time: 7 }),
      makeCall({ id: 1, direction: 'out', to_comment: 'Carl Client', state: 'answer', comment: null }),
    ];
    await renderJournal(calls, { names: new Map([['anna', 'Anna Agent']]) });

    expect(rows().map((r) => r.dataset.callId)).toEqual(['3', '2', '1']);

    const first = within(row(3));
    expect(first.getByTestId('journal-party').textContent?.trim()).toBe('Bettina Kunde');
    expect(first.getByTestId('journal-status').textContent).toBe('');
    expect(first.getByTestId('journal-waiting').textContent).toBe('0:12');
    expect(first.getByTestId('journal-talking').textContent).toBe('1:05:03');
    expect(first.getByTestId('journal-answered-by').textContent?.trim()).toBe('Anna Agent');
    expect(first.getByTestId('journal-direction').textContent).toContain('In');

    const second = within(row(2));
    expect(second.getByTestId('journal-party').textContent?.trim()).toBe('+49 89 555');
    expect(second.getByTestId('journal-status').textContent).toBe('busy');
    expect(second.getByTestId('journal-talking').textContent).toBe('');

    const third = within(row(1));
    expect(third.getByTestId('journal-party').textContent?.trim()).toBe('Carl Client');
    expect(third.getByTestId('journal-status').textContent).toBe('connected');
    expect(third.getByTestId('journal-direction').textContent).toContain('Out');
  });

  it.each([
    ['cancel', 'not reached'],
    ['noAnswer', 'not reached'],
    ['congestion', 'not reached'],
    ['notFound', 'not exist'],
    ['normalClearing', ''],
    ['forwarded', 'forwarded'],
  ])('shows hangup cause %s as "%s"', async (comment, text) => {
    await renderJournal([makeMissedCall({ id: 10, comment })]);
    expect(within(row(10)).getByTestId('journal-status').textContent).toBe(text);
  });

  it('shows a ringing call as ringing', async () => {
    await renderJournal([makeCall({ id: 11, state: 'newCall', comment: null })]);
    expect(within(row(11)).getByTestId('journal-status').textContent).toBe('ringing');
  });

  it('marks open missed calls, and only them', async () => {
    await renderJournal([
      makeMissedCall({ id: 1 }),
      makeMissedCall({ id: 2, done: true }),
      makeCall({ id: 3, done: false }),
      makeMissedCall({ id: 4, direction: 'out' }),
      makeMissedCall({ id: 5, state: 'newCall', comment: null }),
    ]);
    expect(row(1).dataset.openMissed).toBe('true');
    expect(row(1).classList.contains('open-missed')).toBe(true);
    for (const id of [2, 3, 4, 5]) {
      expect(row(id).hasAttribute('data-open-missed')).toBe(false);
    }
  });

  it('renders a caller name with markup as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    await renderJournal([makeCall({ id: 1, from_comment: evil })]);
    expect(within(row(1)).getByTestId('journal-party').textContent?.trim()).toBe(evil);
    expect(document.querySelector('img')).toBeNull();
  });

  it('marks a call done and shows the result', async () => {
    const call = makeMissedCall({ id: 5 });
    vi.mocked(ipc.setDone).mockResolvedValue({ ...call, done: true });
    await renderJournal([call]);
    const box = within(row(5)).getByTestId('mark-done') as HTMLInputElement;
    expect(box.checked).toBe(false);
    expect(box.disabled).toBe(false);

    await fireEvent.click(box);

    expect(ipc.setDone).toHaveBeenCalledWith(5, true);
    await waitFor(() => expect(row(5).hasAttribute('data-open-missed')).toBe(false));
    expect((within(row(5)).getByTestId('mark-done') as HTMLInputElement).checked).toBe(true);
  });

  it('marks a call not done again', async () => {
    const call = makeCall({ id: 6, done: true });
    vi.mocked(ipc.setDone).mockResolvedValue({ ...call, done: false });
    await renderJournal([call]);
    await fireEvent.click(within(row(6)).getByTestId('mark-done'));
    expect(ipc.setDone).toHaveBeenCalledWith(6, false);
  });

  it('puts the box back and reports when marking fails', async () => {
    const onerror = vi.fn();
    vi.mocked(ipc.setDone).mockRejectedValue({ code: 'offline', message: 'The hub is offline.' });
    await renderJournal([makeMissedCall({ id: 7 })], { onerror });
    const box = within(row(7)).getByTestId('mark-done') as HTMLInputElement;
    await fireEvent.click(box);
    await waitFor(() => expect(onerror).toHaveBeenCalledWith('The hub is offline.'));
    expect(box.checked).toBe(false);
    expect(row(7).dataset.openMissed).toBe('true');
  });

  it('does not allow marking a running call younger than a minute', async () => {
    const now = new Date();
    const young = now.toISOString();
    const old = new Date(now.getTime() - 5 * 60_000).toISOString();
    await renderJournal([
      makeCall({ id: 1, state: 'answer', comment: null, done: false, created_at: young }),
      makeMissedCall({ id: 2, created_at: young }),
      makeCall({ id: 3, state: 'newCall', comment: null, done: false, created_at: old }),
    ]);
    const box = (id: number) => within(row(id)).getByTestId('mark-done') as HTMLInputElement;
    expect(box(1).disabled).toBe(true);
    expect(box(2).disabled).toBe(false);
    expect(box(3).disabled).toBe(false);
    await fireEvent.click(box(1));
    expect(ipc.setDone).not.toHaveBeenCalled();
  });

  it('marks all open missed calls done at once', async () => {
    vi.mocked(ipc.markAllDone).mockResolvedValue(2);
    await renderJournal([
      makeMissedCall({ id: 1 }),
      makeCall({ id: 2, done: false }),
      makeMissedCall({ id: 3 }),
      makeMissedCall({ id: 4, done: true }),
    ]);
    const button = screen.getByTestId('mark-all-done') as HTMLButtonElement;
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);
    expect(ipc.markAllDone).toHaveBeenCalledWith([1, 3]);
    await waitFor(() => expect(rows().some((r) => r.dataset.openMissed === 'true')).toBe(false));
    expect((screen.getByTestId('mark-all-done') as HTMLButtonElement).disabled).toBe(true);
  });

  it('has nothing to mark when no missed call is open', async () => {
    await renderJournal([makeCall({ id: 1 })]);
    expect((screen.getByTestId('mark-all-done') as HTMLButtonElement).disabled).toBe(true);
  });

  it('switches filters and fetches again', async () => {
    await renderJournal([makeCall({ id: 1 }), makeMissedCall({ id: 2 })]);
    expect(ipc.journal).toHaveBeenLastCalledWith('all', null);
    expect(screen.getByTestId('filter-all').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('filter-missed').getAttribute('aria-pressed')).toBe('false');

    vi.mocked(ipc.journal).mockResolvedValue(page([makeMissedCall({ id: 2 })]));
    await fireEvent.click(screen.getByTestId('filter-missed'));
    expect(ipc.journal).toHaveBeenLastCalledWith('missed', null);
    await waitFor(() => expect(rows().map((r) => r.dataset.callId)).toEqual(['2']));
    expect(screen.getByTestId('filter-missed').getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByTestId('filter-all').getAttribute('aria-pressed')).toBe('false');

    vi.mocked(ipc.journal).mockResolvedValue(page([]));
    await fireEvent.click(screen.getByTestId('filter-mine'));
    expect(ipc.journal).toHaveBeenLastCalledWith('mine', null);
    await waitFor(() => expect(rows()).toHaveLength(0));
    expect(screen.getByTestId('journal-empty').textContent).toMatch(/no calls of yours/i);
  });

  it('keeps the newest answer when filters change quickly', async () => {
    let answerAll!: (p: JournalPage) => void;
    vi.mocked(ipc.journal)
      .mockReturnValueOnce(new Promise((resolve) => (answerAll = resolve)))
      .mockResolvedValueOnce(page([makeMissedCall({ id: 9 })]));
    render(Journal);
    await fireEvent.click(screen.getByTestId('filter-missed'));
    await waitFor(() => expect(rows().map((r) => r.dataset.callId)).toEqual(['9']));
    answerAll(page([makeCall({ id: 1 })]));
    await tick();
    await tick();
    expect(rows().map((r) => r.dataset.callId)).toEqual(['9']);
  });

  it('loads older entries', async () => {
    vi.mocked(ipc.journal).mockResolvedValueOnce(page([makeCall({ id: 50 }), makeCall({ id: 49 })], 49));
    render(Journal);
    const more = await screen.findByTestId('load-more');
    vi.mocked(ipc.journal).mockResolvedValueOnce(page([makeCall({ id: 48 })], null));
    await fireEvent.click(more);
    expect(ipc.journal).toHaveBeenLastCalledWith('all', 49);
    await waitFor(() => expect(rows().map((r) => r.dataset.callId)).toEqual(['50', '49', '48']));
    expect(screen.queryByTestId('load-more')).toBeNull();
  });

  it('fetches again when the journal changes', async () => {
    await renderJournal([makeCall({ id: 1 })]);
    expect(events.listeners('journal-changed')).toBe(1);
    vi.mocked(ipc.journal).mockResolvedValue(page([makeMissedCall({ id: 2 }), makeCall({ id: 1 })]));
    events.emit('journal-changed', null);
    await waitFor(() => expect(rows().map((r) => r.dataset.callId)).toEqual(['2', '1']));
    expect(ipc.journal).toHaveBeenCalledTimes(2);
  });

  it('stops listening when it goes away', async () => {
    const { unmount } = await renderJournal([]);
    await waitFor(() => expect(events.listeners('journal-changed')).toBe(1));
    unmount();
    expect(events.listeners('journal-changed')).toBe(0);
  });

  it('calls back the remote party', async () => {
    const oninfo = vi.fn();
    vi.mocked(ipc.dial).mockResolvedValue({ via: 'placetel', number: '+49 30 12345670', caller_id: null, call_id: null });
    await renderJournal(
      [
        makeMissedCall({ id: 1, from: '+493012345670' }),
        makeCall({ id: 2, direction: 'out', from: '+49301111', to: '+498955512' }),
      ],
      { oninfo },
    );
    await fireEvent.click(within(row(1)).getByTestId('call-back'));
    expect(ipc.dial).toHaveBeenLastCalledWith('+493012345670');
    await waitFor(() => expect(oninfo).toHaveBeenCalledWith('Placetel is ringing your phone for +49 30 12345670'));
    await fireEvent.click(within(row(2)).getByTestId('call-back'));
    expect(ipc.dial).toHaveBeenLastCalledWith('+498955512');
  });

  it('reports a failed call-back', async () => {
    const onerror = vi.fn();
    vi.mocked(ipc.dial).mockRejectedValue({ code: 'dial_failed', message: 'Placetel refused the call.' });
    await renderJournal([makeMissedCall({ id: 1 })], { onerror });
    await fireEvent.click(within(row(1)).getByTestId('call-back'));
    await waitFor(() => expect(onerror).toHaveBeenCalledWith('Placetel refused the call.'));
  });

  it('cannot call back an anonymous caller', async () => {
    await renderJournal([makeMissedCall({ id: 1, from: 'anonymous', from_pretty: 'anonymous' })]);
    expect((within(row(1)).getByTestId('call-back') as HTMLButtonElement).disabled).toBe(true);
  });

  it("charts today's calls per hour", async () => {
    const today = (h: number) => {
      const d = new Date();
      d.setHours(h, 15, 0, 0);
      return d.toISOString();
    };
    await renderJournal([
      makeCall({ id: 1, initialized_at: today(9) }),
      makeMissedCall({ id: 2, initialized_at: today(9) }),
      makeMissedCall({ id: 3, initialized_at: today(11) }),
      makeCall({ id: 4, initialized_at: '2001-01-01T09:00:00Z' }),
    ]);
    const chart = screen.getByTestId('hour-chart');
    const hour = (h: number) => chart.querySelector(`[data-hour="${h}"]`) as SVGGElement;
    expect(chart.querySelectorAll('[data-hour]')).toHaveLength(24);
    expect(hour(9).dataset.calls).toBe('2');
    expect(hour(9).dataset.missed).toBe('1');
    expect(hour(11).dataset.calls).toBe('1');
    expect(hour(11).dataset.missed).toBe('1');
    expect(hour(10).dataset.calls).toBe('0');
    expect(hour(9).querySelector('rect.missed')).not.toBeNull();
    expect(chart.getAttribute('aria-label')).toMatch(/3 calls, 2 missed/);
  });

  it('says when the journal cannot be loaded, and retries', async () => {
    vi.mocked(ipc.journal).mockRejectedValueOnce({ code: 'offline', message: 'Not connected.' });
    render(Journal);
    const error = await screen.findByTestId('journal-error');
    expect(error.textContent).toContain('Not connected.');
    vi.mocked(ipc.journal).mockResolvedValue(page([makeCall({ id: 1 })]));
    await fireEvent.click(within(error).getByRole('button'));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(screen.queryByTestId('journal-error')).toBeNull();
  });
});

describe('call tickets', () => {
  const customer = (id: number) =>
    makeMissedCall({
      id,
      from_comment: '<b>Nicole</b>',
      caller: { number: '+4930123456', level: 'known', contacts: [makeContact({ name: '<b>Nicole</b>' })] },
    });

  it('creates a help-desk customer\'s ticket with one click, then links to it', async () => {
    const ticket = { id: 12, number: '53012', url: 'https://support.example.com/#ticket/zoom/12' };
    vi.mocked(ipc.createTicket).mockResolvedValue(ticket);
    vi.mocked(ipc.openLink).mockResolvedValue(null);
    await renderJournal([customer(4), makeMissedCall({ id: 3 })]);

    expect(within(row(3)).queryByTestId('create-ticket')).toBeNull();
    await fireEvent.click(within(row(4)).getByTestId('create-ticket'));
    await waitFor(() => expect(within(row(4)).getByTestId('journal-ticket').textContent).toBe('#53012'));
    expect(ipc.createTicket).toHaveBeenCalledWith(4);
    expect(ipc.openLink).toHaveBeenCalledWith(ticket.url);
    expect(within(row(4)).queryByTestId('create-ticket')).toBeNull();
    expect(within(row(4)).getByTestId('journal-party').textContent?.trim()).toBe('<b>Nicole</b>');
  });

  it('offers an unknown caller\'s ticket only when the hub syncs a help desk', async () => {
    const unknown = makeMissedCall({ id: 6, from: '+4940123456', caller: null });
    const hidden = makeMissedCall({ id: 7, from: '', caller: null });
    const first = await renderJournal([unknown, hidden]);
    expect(within(row(6)).queryByTestId('create-ticket')).toBeNull();
    first.unmount();
    await renderJournal([unknown, hidden], { helpdesk: true });
    expect(within(row(7)).queryByTestId('create-ticket')).toBeNull();
    await fireEvent.click(within(row(6)).getByTestId('create-ticket'));
    expect(ipc.createTicket).toHaveBeenCalledWith(6);
  });

  it('says why a ticket could not be made', async () => {
    vi.mocked(ipc.createTicket).mockRejectedValue({ code: 'unexpected_status', message: 'the caller is no Zammad customer' });
    const onerror = vi.fn();
    await renderJournal([customer(5)], { onerror });
    await fireEvent.click(within(row(5)).getByTestId('create-ticket'));
    await waitFor(() => expect(onerror).toHaveBeenCalled());
    expect(String(onerror.mock.calls[0][0])).toContain('no Zammad customer');
    expect(within(row(5)).getByTestId('create-ticket')).not.toBeNull();
  });

  it('links to the ticket a call has', async () => {
    vi.mocked(ipc.openLink).mockResolvedValue(null);
    const logged = { ...customer(6), ticket: { id: 3, number: '53003', url: 'https://support.example.com/#ticket/zoom/3' } };
    await renderJournal([logged]);
    await fireEvent.click(within(row(6)).getByTestId('journal-ticket'));
    expect(ipc.openLink).toHaveBeenCalledWith('https://support.example.com/#ticket/zoom/3');
  });
});
