import { describe, expect, it } from 'vitest';
import type { Aarq } from '../iso/acse/acse.js';
import { AcseDiagnostic } from '../mms/negotiate.js';
import { isRefusal, tableForAarq, type BilateralTable } from './bilateral.js';

const table = (id: string, apTitle: string, extra: Partial<BilateralTable> = {}): BilateralTable => ({
  id,
  apTitle,
  domain: 'icc1',
  dataValues: [],
  ...extra,
});
const aarq = (callingApTitle: string | undefined, callingAeQualifier?: number): Aarq =>
  ({
    ...(callingApTitle === undefined ? {} : { callingApTitle }),
    ...(callingAeQualifier === undefined ? {} : { callingAeQualifier }),
  }) as Aarq;

describe('bilateral tables by AP title', () => {
  const tables = [table('FLEET', '1.1.999.*'), table('NODE7', '1.1.999.7'), table('SUB', '1.1.999.5.*'), table('OTHER', '1.2.*')];

  it('an exact title wins over every wildcard', () => {
    expect(tableForAarq(tables, aarq('1.1.999.7'))).toMatchObject({ id: 'NODE7', apTitle: '1.1.999.7' });
  });

  it('a wildcard takes every title under its arc and hands back the caller’s own title', () => {
    expect(tableForAarq(tables, aarq('1.1.999.3'))).toMatchObject({ id: 'FLEET', apTitle: '1.1.999.3' });
    expect(tableForAarq(tables, aarq('1.1.999.3000.1'))).toMatchObject({ id: 'FLEET', apTitle: '1.1.999.3000.1' });
  });

  it('the longest arc wins among wildcards', () => {
    expect(tableForAarq(tables, aarq('1.1.999.5.2'))).toMatchObject({ id: 'SUB', apTitle: '1.1.999.5.2' });
    expect(tableForAarq(tables, aarq('1.1.999.5'))).toMatchObject({ id: 'FLEET' });
  });

  it('the arc itself, a sibling arc and a longer number are not under the wildcard', () => {
    for (const title of ['1.1.999', '1.1.9990.1', '1.1.99.1', '1.3.1']) {
      const r = tableForAarq(tables, aarq(title));
      expect(isRefusal(r) && r.diagnostic).toBe(AcseDiagnostic.callingApTitleNotRecognized);
    }
  });

  it('AE qualifiers are checked on wildcard tables as on exact ones', () => {
    const withQualifier = [table('FLEET', '1.1.999.*', { aeQualifier: 12 })];
    expect(tableForAarq(withQualifier, aarq('1.1.999.4', 12))).toMatchObject({ id: 'FLEET', apTitle: '1.1.999.4' });
    const r = tableForAarq(withQualifier, aarq('1.1.999.4', 13));
    expect(isRefusal(r) && r.diagnostic).toBe(AcseDiagnostic.callingAeQualifierNotRecognized);
  });

  it('an AARQ without a calling AP title is refused', () => {
    const r = tableForAarq(tables, aarq(undefined));
    expect(isRefusal(r) && r.reason).toBe('the AARQ names no calling AP title');
  });
});
