import type { UiError } from './types';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Normalises whatever a command rejected with into a `UiError`. */
export function toUiError(error: unknown): UiError {
  if (isRecord(error) && typeof error.message === 'string') {
    return {
      code: typeof error.code === 'string' ? error.code : 'error',
      message: error.message,
    };
  }
  if (typeof error === 'string' && error.trim() !== '') {
    return { code: 'error', message: error };
  }
  return { code: 'unknown', message: 'Something went wrong. Please try again.' };
}

/** The text to show a person for a failed command. */
export function errorMessage(error: unknown): string {
  return toUiError(error).message;
}
