/**
 * Seeded randomness that gives the same numbers on every platform and Node version (Math.random cannot be seeded).
 *
 * - `deriveSeed(seed, ...parts)`: a 32-bit stream seed from the user's seed plus names, e.g.
 *   (seed, 'few-shot', 'cat'). FNV-1a over the UTF-16 code units of the canonical text `seed|part|part…`,
 *   then MurmurHash3's 32-bit finalizer to spread the bits. Naming streams keeps them independent: drawing
 *   the test split never shifts the few-shot samples, and adding a class never changes another class's draw.
 * - `Rng`: mulberry32 (Tommy Ettinger's 32-bit generator; one uint32 of state, period 2^32), ample for shuffles.
 *   `below(n)` is unbiased (rejection sampling); `shuffle` is Fisher–Yates from the last element down.
 */
import { int } from '../validate.js';

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed for the stream named by `parts` under the user's integer `seed`. */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  int('seed', seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const text = [String(seed), ...parts.map(String)].join('|');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

export class Rng {
  private state: number;

  constructor(seed32: number) {
    this.state = seed32 >>> 0;
  }

  /** Next uint32 (mulberry32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n), n from 1 to 2^32, without modulo bias. */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}

/** An Rng for the named stream (see deriveSeed). */
export function rngFor(seed: number, ...parts: (string | number)[]): Rng {
  return new Rng(deriveSeed(seed, ...parts));
}
