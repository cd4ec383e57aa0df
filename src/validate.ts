/**
 * The one validation helper (as sharp's is.js): every public function checks its arguments through these,
 * so every bad value gets the same kind of message: what was wrong, the value, and what is allowed.
 */
import { ZsError } from './errors.js';

function fail(name: string, value: unknown, expected: string, hint?: string): never {
  throw new ZsError('E_INVALID_ARG', `invalid ${name}: ${describe(value)} (expected ${expected})`, { kind: 'usage', hint });
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}

export function int(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    fail(name, value, range);
  }
  return n;
}

export function number(name: string, value: unknown, min = -Infinity, max = Infinity, exclusiveMin = false): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const lowOk = typeof n === 'number' && (exclusiveMin ? n > min : n >= min);
  if (typeof n !== 'number' || !Number.isFinite(n) || !lowOk || n > max) {
    const low = min === -Infinity ? '' : `${exclusiveMin ? '>' : '>='} ${min}`;
    const high = max === Infinity ? '' : `<= ${max}`;
    fail(name, value, `a number ${[low, high].filter(Boolean).join(' and ')}`.trim());
  }
  return n;
}

export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(name, value, `one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') fail(name, value, 'a non-empty string');
  return value;
}

/** A non-empty list of distinct, non-empty strings (labels, texts). */
export function distinctStrings(name: string, values: unknown): string[] {
  if (!Array.isArray(values) || values.length === 0) fail(name, values, 'a non-empty list');
  const seen = new Set<string>();
  for (const [i, v] of values.entries()) {
    if (typeof v !== 'string' || v.trim() === '') {
      throw new ZsError('E_INVALID_ARG', `invalid ${name}: item ${i + 1} is empty`, {
        kind: 'usage',
        hint: 'remove the empty entry (look for a doubled or trailing comma)',
      });
    }
    if (seen.has(v)) {
      throw new ZsError('E_INVALID_ARG', `invalid ${name}: ${JSON.stringify(v)} appears twice`, {
        kind: 'usage',
        hint: 'give each entry once',
      });
    }
    seen.add(v);
  }
  return values as string[];
}

export function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, value, 'an object');
  return value as Record<string, unknown>;
}
