import { expect } from 'vitest';
import { PoolwatchError } from '../../src/errors.js';

/** What `fn` throws, asserting it is a PoolwatchError (and that it throws at all). */
export function caught(fn: () => unknown): PoolwatchError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PoolwatchError);
    return e as PoolwatchError;
  }
  throw new Error('expected an error');
}
