import { describe, expect, it } from 'vitest';
import { errorMessage, toUiError } from './errors';

describe('toUiError', () => {
  it('keeps a command error as it is', () => {
    expect(toUiError({ code: 'hub_unreachable', message: 'The hub cannot be reached.' })).toEqual({
      code: 'hub_unreachable',
      message: 'The hub cannot be reached.',
    });
  });

  it('wraps a plain string', () => {
    expect(toUiError('command dial not found')).toEqual({ code: 'error', message: 'command dial not found' });
  });

  it('has a message for anything else', () => {
    expect(errorMessage(undefined)).toMatch(/went wrong/);
    expect(errorMessage(new Error('boom'))).toBe('boom');
  });
});
