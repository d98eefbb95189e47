import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import * as ipc from '../lib/ipc';
import Popup from './Popup.svelte';
import { fakeEvents } from '../test/events';
import { makeContact, makePopupView } from '../test/fixtures';
import type { PopupView } from '../lib/types';

vi.mock('../lib/ipc');

let events: ReturnType<typeof fakeEvents>;

beforeEach(() => {
  vi.resetAllMocks();
  events = fakeEvents();
  vi.mocked(ipc.popupCurrent).mockResolvedValue(null);
  vi.mocked(ipc.openLink).mockResolvedValue(null);
  vi.mocked(ipc.popupDismiss).mockResolvedValue(null);
  vi.mocked(ipc.popupShown).mockResolvedValue(null);
});

describe('the line called', () => {
  it('shows the number called, or the queue when it differs', async () => {
    await showing(
      makePopupView({ to: '+4930600000000', to_pretty: '+49 30 600000000', queue: '+4930600000000' }),
    );
    expect(screen.getByTitle('The number called').textContent).toBe('to +49 30 600000000');
    events.emit(
      'popup',
      makePopupView({ to: '+4930600000000', to_pretty: '+49 30 600000000', queue: 'support' }),
    );
    await tick();
    expect(screen.getByTitle('Queue').textContent).toBe('support');
    expect(screen.queryByTitle('The number called')).toBeNull();
  });
});

describe('paint reports', () => {
  it('reports each new call once it is painted, not its updates', async () => {
    const view = known();
    await showing(view);
    await waitFor(() => expect(ipc.popupShown).toHaveBeenCalledWith(view.call.id));
    events.emit('popup', { ...view, call: { ...view.call, state: 'answer' } });
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ipc.popupShown).toHaveBeenCalledTimes(1);
  });

  it('reports nothing when the popup goes away before it is painted', async () => {
    const { unmount } = await showing(known());
    unmount();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ipc.popupShown).not.toHaveBeenCalled();
  });
});

async function showing(view: PopupView | null) {
  vi.mocked(ipc.popupCurrent).mockResolvedValue(view);
  const result = render(Popup);
  await waitFor(() => expect(ipc.popupCurrent).toHaveBeenCalled());
  await tick();
  await tick();
  return result;
}

const known = () =>
  makePopupView(
    {
      from: '+493012345670',
      from_pretty: '+49 30 12345670',
      caller: {
        number: '+493012345670',
        level: 'known',
        contacts: [
          makeContact({
            name: 'Bettina Kunde',
            organization: 'Kunde GmbH',
            profile_url: 'https://support.example.com/#user/profile/7',
            tickets: [
              {
                id: '1042',
                title: 'Printer on fire',
                state: 'open',
                updated_at: null,
                url: 'https://support.example.com/#ticket/zoom/1042',
              },
              { id: '977', title: 'Invoice question', state: 'closed', updated_at: null, url: null },
            ],
          }),
        ],
      },
    },
    { new_ticket_url: 'https://support.example.com/#ticket/create' },
  );

describe('Popup', () => {
  it('shows the ringing call with the caller, organization and tickets', async () => {
    await showing(known());
    expect(screen.getByTestId('popup-state').textContent).toBe('Incoming call');
    expect(screen.getByTestId('popup-number').textContent).toBe('+49 30 12345670');
    const candidates = screen.getAllByTestId('popup-candidate');
    expect(candidates).toHaveLength(1);
    const c = within(candidates[0]);
    expect(c.getByTestId('popup-caller-name').textContent).toBe('Bettina Kunde');
    expect(c.getByTestId('popup-organization').textContent).toBe('Kunde GmbH');
    const tickets = c.getAllByTestId('popup-ticket');
    expect(tickets.map((t) => t.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '#1042 Printer on fire open',
      '#977 Invoice question closed',
    ]);
    expect(screen.queryByTestId('popup-unknown')).toBeNull();
    expect(screen.queryByTestId('popup-match-level')).toBeNull();
  });

  it('opens tickets, the profile and a new ticket through the shell', async () => {
    await showing(known());
    const [withUrl, withoutUrl] = screen.getAllByTestId('popup-ticket');
    await fireEvent.click(withUrl);
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#ticket/zoom/1042');
    await fireEvent.click(withoutUrl);
    expect(ipc.openLink).toHaveBeenCalledTimes(1);
    expect(withoutUrl.tagName).not.toBe('BUTTON');

    await fireEvent.click(screen.getByTestId('popup-open-profile'));
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#user/profile/7');

    await fireEvent.click(screen.getByTestId('popup-new-ticket'));
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#ticket/create');
    expect(document.querySelector('a')).toBeNull();
  });

  it('shows what the shell refused to open', async () => {
    vi.mocked(ipc.openLink).mockRejectedValue({ code: 'not_allowed', message: 'Only help-desk links open.' });
    await showing(known());
    await fireEvent.click(screen.getAllByTestId('popup-ticket')[0]);
    expect((await screen.findByTestId('popup-message')).textContent?.trim()).toBe('Only help-desk links open.');
  });

  it('has no profile link or new-ticket button without addresses', async () => {
    const view = known();
    view.call.caller!.contacts[0].profile_url = null;
    view.new_ticket_url = null;
    await showing(view);
    expect(screen.queryByTestId('popup-open-profile')).toBeNull();
    expect(screen.queryByTestId('popup-new-ticket')).toBeNull();
  });

  it('says when the match is only a maybe', async () => {
    const view = known();
    view.call.caller!.level = 'maybe';
    await showing(view);
    const badge = screen.getByTestId('popup-match-level');
    expect(badge.textContent).toMatch(/maybe/);
    expect(badge.textContent).toMatch(/matched from ticket text/);
  });

  it('lists every candidate sharing the number', async () => {
    const view = makePopupView({
      caller: {
        number: '+4930999',
        level: 'known',
        contacts: [
          makeContact({ id: 1, name: 'Anna Schmidt', organization: 'Alpha AG' }),
          makeContact({ id: 2, name: 'Bernd Schmidt', organization: null, profile_url: null }),
        ],
      },
    });
    await showing(view);
    const candidates = screen.getAllByTestId('popup-candidate');
    expect(candidates.map((c) => within(c).getByTestId('popup-caller-name').textContent)).toEqual([
      'Anna Schmidt',
      'Bernd Schmidt',
    ]);
    expect(within(candidates[0]).getByTestId('popup-organization').textContent).toBe('Alpha AG');
    expect(within(candidates[1]).queryByTestId('popup-organization')).toBeNull();
    expect(within(candidates[1]).queryByTestId('popup-open-profile')).toBeNull();
  });

  it.each([
    ['no match', null],
    ['a match without contacts', { number: '+4930', level: 'known' as const, contacts: [] }],
  ])('shows an unknown caller for %s', async (_label, caller) => {
    await showing(makePopupView({ caller, from_pretty: '+49 30 777' }));
    expect(screen.getByTestId('popup-unknown').textContent).toBe('Unknown caller');
    expect(screen.getByTestId('popup-number').textContent).toBe('+49 30 777');
    expect(screen.queryAllByTestId('popup-candidate')).toHaveLength(0);
    expect(screen.queryByTestId('popup-match-level')).toBeNull();
  });

  it('renders markup in names as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const view = makePopupView({
      caller: {
        number: '+4930',
        level: 'known',
        contacts: [
          makeContact({
            name: evil,
            organization: evil,
            tickets: [{ id: '1', title: evil, state: null, updated_at: null, url: null }],
          }),
        ],
      },
    });
    await showing(view);
    expect(screen.getByTestId('popup-caller-name').textContent).toBe(evil);
    expect(screen.getByTestId('popup-organization').textContent).toBe(evil);
    expect(screen.getByTestId('popup-ticket').querySelector('.title')?.textContent).toBe(evil);
    expect(document.querySelector('img')).toBeNull();
  });

  it('follows the call through popup events', async () => {
    await showing(known());
    expect(events.listeners('popup')).toBe(1);

    const answered = known();
    answered.call.state = 'answer';
    answered.call.answered_by = 'anna';
    answered.answered_by_name = 'Anna';
    events.emit('popup', answered);
    await tick();
    expect(screen.getByTestId('popup-state').textContent).toBe('Answered by Anna');
    expect(screen.getByTestId('popup-caller-name').textContent).toBe('Bettina Kunde');

    const ended = structuredClone(answered);
    ended.call.state = 'hangup';
    ended.call.comment = 'normalClearing';
    events.emit('popup', ended);
    await tick();
    expect(screen.getByTestId('popup-state').textContent).toBe('Call ended');

    events.emit('popup', null);
    await tick();
    expect(screen.queryByTestId('popup-number')).toBeNull();
    expect(screen.queryAllByTestId('popup-candidate')).toHaveLength(0);
    expect(screen.queryByTestId('popup-call-back')).toBeNull();
  });

  it("refreshes an open popup's tickets in place when the hub's fresh ones arrive", async () => {
    const ringing = known();
    ringing.call.state = 'newCall';
    await showing(ringing);
    const list = screen.getByTestId('popup-tickets');
    const fresh = structuredClone(ringing);
    const updatedAt = new Date().toISOString();
    fresh.call.updated_at = updatedAt;
    fresh.call.caller!.contacts[0].tickets = [
      { id: '53003', title: 'New laptop', state: 'new', updated_at: updatedAt, url: null },
      ...ringing.call.caller!.contacts[0].tickets,
    ];
    events.emit('popup', fresh);
    await tick();
    const numbers = screen.getAllByTestId('popup-ticket-number').map((n) => n.textContent);
    expect(numbers).toEqual(['#53003', '#1042', '#977']);
    expect(screen.getByTestId('popup-ticket-updated').textContent).toMatch(/^\d\d:\d\d$/);
    expect(screen.getByTestId('popup-tickets')).toBe(list);
    expect(screen.getByTestId('popup-state').textContent).toBe('Incoming call');
  });

  it('starts empty and shows a call that arrives later', async () => {
    await showing(null);
    expect(screen.queryByTestId('popup-number')).toBeNull();
    events.emit('popup', known());
    await tick();
    expect(screen.getByTestId('popup-number').textContent).toBe('+49 30 12345670');
  });

  it('prefers an event over a late answer to popup_current', async () => {
    let answer!: (v: PopupView | null) => void;
    vi.mocked(ipc.popupCurrent).mockReturnValue(new Promise((resolve) => (answer = resolve)));
    render(Popup);
    await waitFor(() => expect(events.listeners('popup')).toBe(1));
    const answered = known();
    answered.call.state = 'answer';
    answered.answered_by_name = 'Carla';
    events.emit('popup', answered);
    answer(known());
    await tick();
    await tick();
    expect(screen.getByTestId('popup-state').textContent).toBe('Answered by Carla');
  });

  it('calls back, and closes', async () => {
    vi.mocked(ipc.dial).mockResolvedValue({ via: 'tel', number: '+493012345670', link: 'tel:+493012345670' });
    const view = known();
    await showing(view);
    await fireEvent.click(screen.getByTestId('popup-call-back'));
    expect(ipc.dial).toHaveBeenCalledWith('+493012345670');
    expect((await screen.findByTestId('popup-message')).textContent?.trim()).toBe(
      'Opened tel:+493012345670 in your phone app',
    );
    await fireEvent.click(screen.getByTestId('popup-close'));
    expect(ipc.popupDismiss).toHaveBeenCalledExactlyOnceWith(view.call.id);
  });

  it('does not take the focus', async () => {
    const unfocused = () => document.activeElement === document.body || document.activeElement === null;
    await showing(known());
    expect(unfocused()).toBe(true);
    const answered = known();
    answered.call.state = 'answer';
    events.emit('popup', answered);
    await tick();
    expect(unfocused()).toBe(true);
    events.emit('popup', null);
    await tick();
    expect(unfocused()).toBe(true);
  });
});

describe('the call ticket', () => {
  it('creates the ticket with one click and opens it', async () => {
    const ticket = { id: 12, number: '53012', url: 'https://support.example.com/#ticket/zoom/12' };
    vi.mocked(ipc.createTicket).mockResolvedValue(ticket);
    const view = known();
    await showing(view);
    await fireEvent.click(screen.getByTestId('popup-create-ticket'));
    await waitFor(() => expect(screen.getByTestId('popup-call-ticket').textContent).toBe('Ticket #53012'));
    expect(ipc.createTicket).toHaveBeenCalledWith(view.call.id);
    expect(ipc.openLink).toHaveBeenCalledWith(ticket.url);
    expect(screen.queryByTestId('popup-create-ticket')).toBeNull();
  });

  it('shows the ticket a call has as a link, and offers none for an unknown caller', async () => {
    const view = known();
    await showing({
      ...view,
      call: { ...view.call, ticket: { id: 3, number: '53003', url: 'https://support.example.com/#ticket/zoom/3' } },
    });
    await fireEvent.click(screen.getByTestId('popup-call-ticket'));
    expect(ipc.openLink).toHaveBeenCalledWith('https://support.example.com/#ticket/zoom/3');
    events.emit('popup', makePopupView({ caller: null }));
    await tick();
    expect(screen.queryByTestId('popup-create-ticket')).toBeNull();
    expect(screen.queryByTestId('popup-call-ticket')).toBeNull();
  });

  it('offers an unknown caller\'s ticket when the hub syncs a help desk', async () => {
    const ticket = { id: 14, number: '53014', url: 'https://support.example.com/#ticket/zoom/14' };
    vi.mocked(ipc.createTicket).mockResolvedValue(ticket);
    const view = makePopupView({ caller: null });
    await showing({ ...view, helpdesk_url: 'https://support.example.com' });
    await fireEvent.click(screen.getByTestId('popup-create-ticket'));
    await waitFor(() => expect(screen.getByTestId('popup-call-ticket').textContent).toBe('Ticket #53014'));
    expect(ipc.createTicket).toHaveBeenCalledWith(view.call.id);
  });

  it('says why a ticket could not be made', async () => {
    vi.mocked(ipc.createTicket).mockRejectedValue({ code: 'internal', message: 'Zammad did not take the ticket now' });
    await showing(known());
    await fireEvent.click(screen.getByTestId('popup-create-ticket'));
    await waitFor(() => expect(screen.getByTestId('popup-message').textContent).toContain('Zammad did not take'));
  });
});

describe('links into the help desk', () => {
  it('opens each candidate\'s profile and a new ticket for them', async () => {
    const view = makePopupView({
      caller: {
        number: '+4930999',
        level: 'known',
        contacts: [
          makeContact({ id: 1, name: 'Anna Schmidt' }),
          makeContact({
            id: 2,
            name: 'Bernd Schmidt',
            profile_url: 'https://support.example.com/#user/profile/8',
            new_ticket_url: 'https://support.example.com/#ticket/create/customer/8',
          }),
          makeContact({ id: 3, name: 'Imported', profile_url: null, new_ticket_url: null, source: 'import' }),
        ],
      },
    });
    await showing(view);
    const [anna, bernd, imported] = screen.getAllByTestId('popup-candidate').map((c) => within(c));
    expect(bernd.getByTestId('popup-open-profile').textContent).toBe('Profile');
    await fireEvent.click(bernd.getByTestId('popup-open-profile'));
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#user/profile/8');
    await fireEvent.click(bernd.getByTestId('popup-candidate-new-ticket'));
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#ticket/create/customer/8');
    await fireEvent.click(anna.getByTestId('popup-candidate-new-ticket'));
    expect(ipc.openLink).toHaveBeenLastCalledWith('https://support.example.com/#ticket/create/customer/7');
    expect(imported.queryByTestId('popup-open-profile')).toBeNull();
    expect(imported.queryByTestId('popup-candidate-new-ticket')).toBeNull();
  });
});

describe('creating the customer of an unknown caller', () => {
  const unknown = (helpdesk: string | null = 'https://support.example.com/') =>
    makePopupView({ from: '+4930609854180', from_pretty: '+49 30 609854180', caller: null }, { helpdesk_url: helpdesk });

  const created = makeContact({
    id: 12,
    name: 'Nicole Braun',
    organization: null,
    email: null,
    profile_url: 'https://support.example.com/#user/profile/101',
    new_ticket_url: 'https://support.example.com/#ticket/create/customer/101',
  });

  it('is offered only when the hub syncs a help desk and the caller is not known', async () => {
    const { unmount } = await showing(unknown(null));
    expect(screen.queryByTestId('popup-create-customer')).toBeNull();
    unmount();
    const second = await showing(known());
    expect(screen.queryByTestId('popup-create-customer')).toBeNull();
    second.unmount();
    await showing(unknown());
    expect(screen.getByTestId('popup-create-customer').textContent).toBe('Create customer in Zammad');
  });

  it('is not offered for a hidden number', async () => {
    await showing(makePopupView({ from: '', from_pretty: '', caller: null }, { helpdesk_url: 'https://support.example.com/' }));
    expect(screen.queryByTestId('popup-create-customer')).toBeNull();
  });

  it('creates the customer with the number, then opens the new profile', async () => {
    vi.mocked(ipc.createCustomer).mockResolvedValue(created);
    const view = unknown();
    await showing(view);
    await fireEvent.click(screen.getByTestId('popup-create-customer'));
    await waitFor(() => expect(ipc.openLink).toHaveBeenCalledWith('https://support.example.com/#user/profile/101'));
    expect(ipc.createCustomer).toHaveBeenCalledExactlyOnceWith(view.call.id);
    expect(screen.getByTestId('popup-message').textContent?.trim()).toBe('Created Nicole Braun in the help desk.');
    expect(document.querySelector('input')).toBeNull();
  });

  it('takes one click at a time', async () => {
    let finish!: (card: typeof created) => void;
    vi.mocked(ipc.createCustomer).mockReturnValue(new Promise((resolve) => (finish = resolve)));
    await showing(unknown());
    const button = screen.getByTestId('popup-create-customer') as HTMLButtonElement;
    await fireEvent.click(button);
    await tick();
    expect(button.disabled).toBe(true);
    await fireEvent.click(button);
    expect(ipc.createCustomer).toHaveBeenCalledTimes(1);
    finish(created);
    await waitFor(() => expect(button.disabled).toBe(false));
  });

  it('shows the hub\'s refusal as text with its code, and opens nothing', async () => {
    vi.mocked(ipc.createCustomer).mockRejectedValue({
      code: 'zammad_unreachable',
      message: 'Zammad at https://support.example.com/ could not be reached: Connection refused',
    });
    await showing(unknown());
    await fireEvent.click(screen.getByTestId('popup-create-customer'));
    const message = await screen.findByTestId('popup-message');
    expect(message.textContent?.trim()).toBe(
      'Zammad at https://support.example.com/ could not be reached: Connection refused',
    );
    expect(message.dataset.code).toBe('zammad_unreachable');
    expect(message.getAttribute('role')).toBe('alert');
    expect(ipc.openLink).not.toHaveBeenCalled();
  });

  it('shows the new customer once the hub streams the matched call', async () => {
    vi.mocked(ipc.createCustomer).mockResolvedValue(created);
    const view = unknown();
    await showing(view);
    await fireEvent.click(screen.getByTestId('popup-create-customer'));
    const matched = structuredClone(view);
    matched.call.caller = { number: '+4930609854180', level: 'known', contacts: [created] };
    events.emit('popup', matched);
    await tick();
    expect(screen.getByTestId('popup-caller-name').textContent).toBe('Nicole Braun');
    expect(screen.queryByTestId('popup-create-customer')).toBeNull();
    expect(screen.queryByTestId('popup-unknown')).toBeNull();
  });
});
