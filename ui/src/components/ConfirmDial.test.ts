import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import ConfirmDial from './ConfirmDial.svelte';
import type { DialPrompt } from '../lib/types';

const prompt = (overrides: Partial<DialPrompt> = {}): DialPrompt => ({
  id: 3,
  number: '030609854180',
  number_pretty: '+49 30 609854180',
  contact: 'Carla Customer',
  organization: 'Acme GmbH',
  origin: 'desktop',
  ...overrides,
});

function show(p: DialPrompt) {
  const onanswer = vi.fn();
  render(ConfirmDial, { props: { prompt: p, onanswer } });
  return onanswer;
}

describe('ConfirmDial', () => {
  it('shows the number and the contact', () => {
    show(prompt());
    expect(screen.getByTestId('dial-prompt-number').textContent).toBe('+49 30 609854180');
    expect(screen.getByTestId('dial-prompt-contact').textContent).toBe('Carla Customer');
    expect(screen.getByTestId('dial-prompt-organization').textContent).toBe('Acme GmbH');
    expect(screen.getByRole('alertdialog')).toBeTruthy();
  });

  it('says when the number is not in the directory', () => {
    show(prompt({ contact: null, organization: null }));
    expect(screen.getByTestId('dial-prompt-unknown').textContent).toBe('Not in the directory');
    expect(screen.queryByTestId('dial-prompt-contact')).toBeNull();
  });

  it('shows caller data as text, never as markup', () => {
    show(prompt({ contact: '<img src=x onerror=alert(1)>', organization: '<b>Evil</b> Corp' }));
    expect(screen.getByTestId('dial-prompt-contact').textContent).toBe('<img src=x onerror=alert(1)>');
    expect(screen.getByTestId('dial-prompt-organization').textContent).toBe('<b>Evil</b> Corp');
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('b')).toBeNull();
  });

  it('dials on Enter, once', async () => {
    const onanswer = show(prompt());
    await fireEvent.keyDown(window, { key: 'Enter' });
    await fireEvent.keyDown(window, { key: 'Enter' });
    expect(onanswer).toHaveBeenCalledTimes(1);
    expect(onanswer).toHaveBeenCalledWith(true);
  });

  it('cancels on Esc', async () => {
    const onanswer = show(prompt());
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(onanswer).toHaveBeenCalledTimes(1);
    expect(onanswer).toHaveBeenCalledWith(false);
  });

  it('ignores other keys', async () => {
    const onanswer = show(prompt());
    await fireEvent.keyDown(window, { key: 'a' });
    await fireEvent.keyDown(window, { key: ' ' });
    expect(onanswer).not.toHaveBeenCalled();
  });

  it('answers with the buttons too', async () => {
    const onanswer = show(prompt());
    await fireEvent.click(screen.getByTestId('dial-prompt-cancel'));
    expect(onanswer).toHaveBeenCalledWith(false);
  });

  it('takes the keyboard focus, so that Enter and Esc reach it', () => {
    show(prompt());
    expect(document.activeElement).toBe(screen.getByTestId('dial-prompt'));
  });

  it('names where the link came from', () => {
    show(prompt({ origin: 'app_window' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('A link in caller data');
  });
});
