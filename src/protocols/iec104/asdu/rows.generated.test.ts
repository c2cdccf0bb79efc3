/**
 * rows.generated.ts is generated from the type table: it must be what the generator writes today,
 * so a row added to TYPES without `npm run generate` fails here rather than decoding wrongly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRows, ROWS_FILE } from '../../../../scripts/gen-iec104-rows.js';
import { TYPES } from './types.js';
import { READ_ROW, WRITE_ROW } from './rows.generated.js';

describe('rows.generated.ts', () => {
  it('is what scripts/gen-iec104-rows.ts generates from TYPES (run `npm run generate`)', () => {
    expect(readFileSync(ROWS_FILE, 'utf8')).toBe(generateRows());
  });

  it('has a reader and a writer for every type ID of the table, and no other', () => {
    const ids = Object.values(TYPES)
      .map((r) => String(r.id))
      .sort();
    expect(Object.keys(READ_ROW).sort()).toEqual(ids);
    expect(Object.keys(WRITE_ROW).sort()).toEqual(ids);
  });
});
