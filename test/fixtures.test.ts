import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/fixtures.js';

const dir = resolve(__dirname, '../fixtures');

describe('fixtures', () => {
  // The committed captures must be exactly what their definitions build; regenerate with
  // UPDATE_FIXTURES=1 npx vitest run test/fixtures.test.ts
  for (const f of FIXTURES) {
    it(`${f.name} matches its definition`, () => {
      const built = f.build();
      if (process.env.UPDATE_FIXTURES) writeFileSync(resolve(dir, f.name), built);
      expect(readFileSync(resolve(dir, f.name)).equals(built)).toBe(true);
    });
  }
});
