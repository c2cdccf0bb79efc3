import { describe, expect, test } from 'vitest';
import { completes, completionOf, dataCauseOf, refuseRequest, replyKind } from './requests.js';

// Type IDs and causes written as the standard numbers them (101 clause 7.2.1.1, 7.2.3), not read
// from the production tables.
describe('request/reply rules', () => {
  test('completion: commands at ACT_TERM, select and deactivation at ACT_CON, reads at data, the rest at ACT_CON', () => {
    expect(completionOf(45, 6, false)).toBe('actterm');
    expect(completionOf(45, 6, true)).toBe('actcon');
    expect(completionOf(46, 8, false)).toBe('actcon');
    expect(completionOf(100, 6, false)).toBe('actterm');
    expect(completionOf(101, 6, false)).toBe('actterm');
    expect(completionOf(102, 5, false)).toBe('data');
    for (const id of [103, 104, 105, 106, 107, 110, 111, 112, 113]) expect(completionOf(id, 6, false)).toBe('actcon');
  });

  test('the cause of the data answering an interrogation', () => {
    expect(dataCauseOf(100, 20)).toBe(20);
    expect(dataCauseOf(100, 36)).toBe(36);
    expect(dataCauseOf(101, 5)).toBe(37);
    expect(dataCauseOf(101, 0x45)).toBe(37);
    expect(dataCauseOf(101, 2)).toBe(39);
    expect(dataCauseOf(45, 1)).toBeUndefined();
  });

  test('replies by cause and P/N', () => {
    expect(replyKind(7, false)).toBe('confirmation');
    expect(replyKind(9, false)).toBe('confirmation');
    expect(replyKind(7, true)).toBe('negative');
    expect(replyKind(10, false)).toBe('termination');
    for (const c of [44, 45, 46, 47]) expect(replyKind(c, true)).toBe('negative');
    expect(replyKind(20, false)).toBe('interrogated');
    expect(replyKind(36, false)).toBe('interrogated');
    expect(replyKind(37, false)).toBe('counters');
    expect(replyKind(41, false)).toBe('counters');
    expect(replyKind(5, false)).toBe('requested');
    expect(replyKind(3, false)).toBe('other');
    expect(completes('actterm', 'confirmation')).toBe(false);
    expect(completes('actcon', 'confirmation')).toBe(true);
    expect(completes('actterm', 'termination')).toBe(true);
    expect(completes('data', 'requested')).toBe(true);
    expect(completes('actterm', 'negative')).toBe(true);
    expect(completes('actterm', 'interrogated')).toBe(false);
  });

  test('what a controlling station may not send: monitor types (44) and causes the type does not take (45)', () => {
    expect(refuseRequest(1, 3)).toBe(44);
    expect(refuseRequest(70, 4)).toBe(44);
    expect(refuseRequest(45, 3)).toBe(45);
    expect(refuseRequest(45, 7)).toBe(45);
    expect(refuseRequest(102, 6)).toBe(45);
    expect(refuseRequest(45, 6)).toBeUndefined();
    expect(refuseRequest(45, 8)).toBeUndefined();
    expect(refuseRequest(102, 5)).toBeUndefined();
    expect(refuseRequest(103, 6)).toBeUndefined();
    // A private type (no table row) is not judged.
    expect(refuseRequest(200, 6)).toBeUndefined();
  });
});
