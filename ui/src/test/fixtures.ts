import type { Call, ContactCard, PopupView, Presence } from '../lib/types';

let nextId = 1;

/** A finished, answered inbound call; override what a test needs. */
export function makeCall(overrides: Partial<Call> = {}): Call {
  const id = overrides.id ?? nextId++;
  return {
    id,
    provider: 'generic',
    call_id: `call-${id}`,
    direction: 'in',
    state: 'hangup',
    from: '+493012345670',
    from_comment: null,
    from_pretty: '+49 30 12345670',
    to: '+49301111',
    to_comment: null,
    to_pretty: '+49 30 1111',
    queue: null,
    comment: 'normalClearing',
    done: true,
    initialized_at: '2024-05-06T09:00:00Z',
    start_at: '2024-05-06T09:00:12Z',
    end_at: '2024-05-06T09:01:17Z',
    duration_waiting_time: 12,
    duration_talking_time: 65,
    answered_by: 'anna',
    offered_to: ['anna'],
    caller: null,
    ticket: null,
    created_at: '2024-05-06T09:00:00Z',
    updated_at: '2024-05-06T09:01:17Z',
    ...overrides,
  };
}

/** An inbound call that nobody answered and nobody marked done yet. */
export function makeMissedCall(overrides: Partial<Call> = {}): Call {
  return makeCall({
    comment: 'cancel',
    done: false,
    start_at: null,
    duration_talking_time: null,
    answered_by: null,
    ...overrides,
  });
}

export function makePresence(overrides: Partial<Presence> = {}): Presence {
  return {
    login: 'anna',
    name: 'Anna Agent',
    role: 'agent',
    numbers: ['+49301111'],
    identities: {},
    online: true,
    dnd: false,
    out_of_office: false,
    on_call: null,
    ...overrides,
  };
}

export function makeContact(overrides: Partial<ContactCard> = {}): ContactCard {
  return {
    id: 7,
    name: 'Bettina Kunde',
    organization: 'Kunde GmbH',
    email: 'bettina@kunde.example',
    profile_url: 'https://support.example.com/#user/profile/7',
    new_ticket_url: 'https://support.example.com/#ticket/create/customer/7',
    source: 'zammad',
    tickets: [],
    ...overrides,
  };
}

export function makePopupView(call: Partial<Call> = {}, view: Partial<Omit<PopupView, 'call'>> = {}): PopupView {
  return {
    call: makeCall({
      state: 'newCall',
      comment: null,
      done: false,
      start_at: null,
      end_at: null,
      duration_talking_time: null,
      answered_by: null,
      ...call,
    }),
    answered_by_name: null,
    new_ticket_url: null,
    helpdesk_url: null,
    ...view,
  };
}
