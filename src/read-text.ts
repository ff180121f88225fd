import { readFileSync } from 'node:fs';
import { PoolwatchError } from './errors.js';

/** A UTF-8 file's text; one that cannot be read is PW_ERR_IO naming the file and what it was for. */
export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PoolwatchError('PW_ERR_IO', `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: path });
  }
}
