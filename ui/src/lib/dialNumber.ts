const ALLOWED = /^[0-9+\-()/ ]*$/;

/** Checks a number typed to dial; returns what is wrong with it, or null if it can be dialled. */
export function validateDialNumber(input: string): string | null {
  const value = input.trim();
  if (value === '') return 'Enter a number to call.';
  if (!ALLOWED.test(value)) return 'Use only digits, spaces and + - ( ) /.';
  const digits = value.replace(/\D/g, '').length;
  if (digits < 3) return 'A number needs at least 3 digits.';
  return null;
}
