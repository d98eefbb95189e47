import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import * as ipc from '../lib/ipc';
import Dial from './Dial.svelte';

vi.mock('../lib/ipc');

beforeEach(() => {
  vi.resetAllMocks();
  vi.mocked(ipc.searchContacts).mockResolvedValue([]);
});

function input(): HTMLInputElement {
  return screen.getByTestId('dial-number') as HTMLInputElement;
}

async function type(value: string) {
  await fireEvent.input(input(), { target: { value } });
}

describe('Dial', () => {
  it.each([
    ['', /enter a number/i],
    ['12', /at least 3 digits/i],
    ['030 12x4', /only digits/i],
  ])('refuses %j with a message', async (value, message) => {
    render(Dial);
    await type(value);
    await fireEvent.click(screen.getByTestId('dial-submit'));
    expect(screen.getByTestId('dial-error').textContent).toMatch(message);
    expect(input().getAttribute('aria-invalid')).toBe('true');
    expect(ipc.dial).not.toHaveBeenCalled();
    expect(screen.queryByTestId('dial-result')).toBeNull();
  });

  it('dials a valid number and says who rings', async () => {
    vi.mocked(ipc.dial).mockResolvedValue({ via: 'placetel', number: '+49 30 1234567', caller_id: null, call_id: null });
    render(Dial);
    await type(' +49 (30) 123-45/67 ');
    await fireEvent.click(screen.getByTestId('dial-submit'));
    expect(ipc.dial).toHaveBeenCalledWith('+49 (30) 123-45/67');
    expect((await screen.findByTestId('dial-result')).textContent).toBe(
      'Placetel is ringing your phone for +49 30 1234567',
    );
    expect(screen.queryByTestId('dial-error')).toBeNull();
  });

  it('says when the phone app was opened', async () => {
    vi.mocked(ipc.dial).mockResolvedValue({ via: 'tel', number: '+4930123', link: 'tel:+4930123' });
    render(Dial);
    await type('030123');
    await fireEvent.submit(input().form!);
    expect((await screen.findByTestId('dial-result')).textContent).toBe('Opened tel:+4930123 in your phone app');
  });

  it('shows why dialling failed', async () => {
    vi.mocked(ipc.dial).mockRejectedValue({ code: 'no_identity', message: 'You have no Placetel phone set up.' });
    render(Dial);
    await type('0301234567');
    await fireEvent.click(screen.getByTestId('dial-submit'));
    expect((await screen.findByTestId('dial-error')).textContent).toBe('You have no Placetel phone set up.');
    expect(screen.queryByTestId('dial-result')).toBeNull();
  });

  it('clears the message once the number is fixed', async () => {
    render(Dial);
    await type('12');
    await fireEvent.click(screen.getByTestId('dial-submit'));
    expect(screen.getByTestId('dial-error')).toBeTruthy();
    await type('123');
    expect(screen.queryByTestId('dial-error')).toBeNull();
  });

  it('suggests contacts while typing and fills in the chosen number', async () => {
    vi.mocked(ipc.searchContacts).mockResolvedValue([
      { name: 'Anna Schmidt', organization: 'Alpha AG', number: '+49301234567', number_pretty: '+49 30 1234567' },
      { name: 'Annika Roth', organization: null, number: '+49897654321', number_pretty: '+49 89 7654321' },
    ]);
    render(Dial);
    await type('Ann');
    const suggestions = await screen.findAllByTestId('dial-suggestion');
    expect(ipc.searchContacts).toHaveBeenCalledTimes(1);
    expect(ipc.searchContacts).toHaveBeenCalledWith('Ann');
    expect(suggestions).toHaveLength(2);
    expect(suggestions[0].textContent).toContain('Anna Schmidt');
    expect(suggestions[0].textContent).toContain('+49 30 1234567');

    await fireEvent.click(suggestions[1]);
    expect(input().value).toBe('+49897654321');
    expect(screen.queryAllByTestId('dial-suggestion')).toHaveLength(0);

    vi.mocked(ipc.dial).mockResolvedValue({ via: 'sipgate', number: '+49 89 7654321', caller_id: null, call_id: null });
    await fireEvent.click(screen.getByTestId('dial-submit'));
    expect(ipc.dial).toHaveBeenCalledWith('+49897654321');
  });

  it('waits for a pause in typing and needs two characters', async () => {
    vi.useFakeTimers();
    try {
      render(Dial);
      await type('A');
      await vi.advanceTimersByTimeAsync(1000);
      expect(ipc.searchContacts).not.toHaveBeenCalled();
      await type('An');
      await type('Ann');
      await type('Anna');
      await vi.advanceTimersByTimeAsync(100);
      expect(ipc.searchContacts).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1000);
      expect(ipc.searchContacts).toHaveBeenCalledTimes(1);
      expect(ipc.searchContacts).toHaveBeenCalledWith('Anna');
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows contacts with markup in their names as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    vi.mocked(ipc.searchContacts).mockResolvedValue([
      { name: evil, organization: null, number: '+4930', number_pretty: '+49 30' },
    ]);
    render(Dial);
    await type('img');
    await waitFor(() => expect(screen.getAllByTestId('dial-suggestion')).toHaveLength(1));
    expect(screen.getByTestId('dial-suggestion').textContent).toContain(evil);
    expect(document.querySelector('img')).toBeNull();
  });
});
