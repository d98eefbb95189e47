import { describe, expect, it } from 'vitest';
import { validateDialNumber } from './dialNumber';

describe('validateDialNumber', () => {
  it.each(['+49 30 1234567', '030/123-45', '(030) 12 34', '112', ' 0301234 '])('accepts %s', (n) => {
    expect(validateDialNumber(n)).toBeNull();
  });

  it('asks for a number when empty', () => {
    expect(validateDialNumber('   ')).toMatch(/enter a number/i);
  });

  it.each(['Anna', '030 1234 x12', '+49#30', '0301234;'])('refuses other characters: %s', (n) => {
    expect(validateDialNumber(n)).toMatch(/only digits/i);
  });

  it.each(['12', '+1-2', '(1) 2'])('needs three digits: %s', (n) => {
    expect(validateDialNumber(n)).toMatch(/at least 3 digits/i);
  });
});
