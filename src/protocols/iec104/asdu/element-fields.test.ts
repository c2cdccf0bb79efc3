/**
 * The field table the row writers are generated from must name exactly the fields each element
 * reads: a field missing there would be encoded as absent (default or error).
 */
import { describe, expect, it } from 'vitest';
import { ALL_FIELDS, ELEMENT_FIELDS, ROW_SCRATCH } from './element-fields.js';
import { ELEMENTS, type ElementKind, type FieldBag } from './elements.js';

describe('ELEMENT_FIELDS', () => {
  it.each(Object.keys(ELEMENTS) as ElementKind[])('%s: the fields its reader fills', (kind) => {
    const o: FieldBag = {};
    // Zero octets decode for every element (SEG: a segment of length 0).
    ELEMENTS[kind].read(new Uint8Array(8), 0, o, 8);
    expect(Object.keys(o).sort()).toEqual([...ELEMENT_FIELDS[kind]].sort());
  });

  it('the scratch object has every field and no other, and takes no new ones', () => {
    expect(Object.keys(ROW_SCRATCH).sort()).toEqual([...ALL_FIELDS].sort());
    expect(Object.isSealed(ROW_SCRATCH)).toBe(true);
  });
});
