/**
 * The rule that types a captured value (decode-meaning.ts): name first, then transfer set, then
 * the announced type, then the shape; editions from TASE2_Version; an ambiguous shape left untyped
 * with its candidates; a value that does not fit the type its name gives reported, not dropped.
 */
import { describe, expect, it } from 'vitest';
import { encodeMmsTypeSpec, type MmsData } from '../../protocols/mms/index.js';
import { encodeTase2Value, specOfType, tase2Type, type Tase2Value } from '../../protocols/tase2/index.js';
import { Tase2Knowledge, type Tase2Ref } from './decode-meaning.js';

const S = '10.0.0.1:102';
const icc = (name: string): Tase2Ref => ({ scope: 'ICC', domain: 'ICC1', name });
const vcc = (name: string): Tase2Ref => ({ scope: 'VCC', name });
function data(kind: Parameters<typeof tase2Type>[0], v: Tase2Value, edition: '1996' | '2000' = '2000'): MmsData {
  const r = encodeTase2Value(tase2Type(kind, edition)!, v);
  if (!r.ok) throw new TypeError(r.reason);
  return r.value;
}
const OK = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const TS1996 = {
  kind: 'DSTransferSet',
  edition: '1996',
  dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS' },
  startTime: 0,
  interval: 10,
  tle: 0,
  bufferTime: 1,
  integrityCheck: 60,
  conditionsRequested: ['interval'],
  blockData: false,
  critical: true,
  rbe: false,
  status: true,
  eventCodeRequested: 0,
} as const;

describe('typing captured TASE.2 values', () => {
  it('leaves an ambiguous shape untyped with its candidates, and types a unique one', () => {
    const k = new Tase2Knowledge();
    const dq = data('DiscreteQ', { kind: 'DiscreteQ', value: 5, flags: OK });
    expect(k.interpret(S, icc('P1'), dq)).toEqual({ ref: icc('P1'), data: dq, candidates: ['DiscreteQ', 'StateQTimeTag'] });
    const rq = data('RealQTimeTag', { kind: 'RealQTimeTag', value: 1, timeStamp: 0, flags: OK });
    expect(k.interpret(S, icc('P2'), rq)).toMatchObject({ value: { kind: 'RealQTimeTag' }, typeFrom: 'shape' });
    // A lone octet is Data_State, Data_StateQ, Data_Flags or (2000) Data_StateSupplemental: only an announced type or a name can say.
    const st = data('State', { kind: 'State', flags: { ...OK, state: 'CLOSED' } });
    expect(k.interpret(S, icc('P3'), st)).toMatchObject({ candidates: ['State', 'Flags', 'StateQ', 'StateSupplemental'] });
    // {octet, Integer32, octet} is Data_StateSupplementalQTimeTag alone.
    const sq = data('StateSupplementalQTimeTag', {
      kind: 'StateSupplementalQTimeTag',
      value: { state: 'CLOSED', tag: 'NO_TAG', expectedState: 'CLOSED' },
      timeStamp: 0,
      flags: OK,
    });
    expect(k.interpret(S, icc('P4'), sq)).toMatchObject({ value: { kind: 'StateSupplementalQTimeTag' }, typeFrom: 'shape' });
  });

  it('uses the announced type, its component names deciding between equal shapes', () => {
    const k = new Tase2Knowledge();
    const spec = encodeMmsTypeSpec(specOfType(tase2Type('StateQTimeTag')!));
    expect(k.announced(S, icc('Brk'), spec)).toEqual({ spec: '{TimeStamp int32, Flags bits8}', kinds: ['StateQTimeTag', 'DiscreteQ'] });
    const v = data('StateQTimeTag', { kind: 'StateQTimeTag', timeStamp: 1000, flags: { ...OK, state: 'TRIPPED' } });
    expect(k.interpret(S, icc('Brk'), v)).toEqual({
      ref: icc('Brk'),
      value: { kind: 'StateQTimeTag', timeStamp: 1000, flags: { ...OK, state: 'TRIPPED' } },
      typeFrom: 'announced',
    });
    // Another server's variable of the same name is not typed by this answer.
    expect(k.interpret('10.0.0.2:102', icc('Brk'), v)).toMatchObject({ candidates: ['DiscreteQ', 'StateQTimeTag'] });
    expect(k.announced(S, icc('X'), Uint8Array.of(0xa2))).toMatchObject({ error: expect.stringContaining('offset') });
  });

  it('types transfer sets by the edition TASE2_Version gave, whole and attribute by attribute', () => {
    const k = new Tase2Knowledge();
    k.interpret(S, vcc('TASE2_Version'), data('TASE2_Version', { kind: 'TASE2_Version', major: 1996, minor: 8 }));
    expect(k.edition(S)).toBe('1996');
    const next = { kind: 'Next_DSTransfer_Set', name: { scope: 'ICC', domain: 'ICC1', name: 'TS7' } } as const;
    expect(k.interpret(S, icc('Next_DSTransfer_Set'), data('Next_DSTransfer_Set', next))).toMatchObject({ value: next, typeFrom: 'name' });
    expect(k.interpret(S, icc('TS7'), data('DSTransferSet', TS1996, '1996'))).toEqual({
      ref: icc('TS7'),
      value: TS1996,
      typeFrom: 'transfer-set',
    });
    expect(k.interpret(S, icc('TS7$Interval'), { type: 'unsigned', value: 30 })).toEqual({
      ref: icc('TS7$Interval'),
      attribute: 'Interval',
      member: { component: 'Interval', base: 'Seconds', value: 30 },
      typeFrom: 'transfer-set',
    });
    expect(k.interpret(S, icc('TS7$DSConditionsRequested'), { type: 'boolean', value: true })).toMatchObject({
      attribute: 'DSConditionsRequested',
      error: { kind: 'wrong-type' },
    });
    // 1996 has no AllChangesReported: not an attribute of this server's transfer sets.
    expect(k.interpret(S, icc('TS7$AllChangesReported'), { type: 'boolean', value: true })).toEqual({
      ref: icc('TS7$AllChangesReported'),
      attribute: 'AllChangesReported',
      data: { type: 'boolean', value: true },
    });
  });

  it('picks the DSTransferSet layout by size without a TASE2_Version', () => {
    const k = new Tase2Knowledge();
    k.transferSet(S, icc('TS1'));
    expect(k.interpret(S, icc('TS1'), data('DSTransferSet', TS1996, '1996'))).toMatchObject({ value: { edition: '1996' } });
  });

  it('reports a value that does not fit the type its name fixes', () => {
    const k = new Tase2Knowledge();
    const d: MmsData = { type: 'visible-string', value: 'x'.repeat(40) };
    expect(k.interpret(S, icc('Bilateral_Table_ID'), d)).toEqual({
      ref: icc('Bilateral_Table_ID'),
      data: d,
      typeFrom: 'name',
      error: { layer: 'tase2', kind: 'bad-name', path: '', reason: 'Identifier of 40 characters; at most 32' },
    });
    expect(k.interpret(S, icc('Breaker_1_SBO'), { type: 'integer', value: 7 })).toMatchObject({
      value: { kind: 'CheckBackId', checkBackId: 7 },
    });
    const aa = { scope: 'association', name: 'IM_Transfer_Set' } as const;
    expect(k.interpret(S, aa, { type: 'boolean', value: true })).toMatchObject({ value: { kind: 'IM_Transfer_Set', enabled: true } });
    // Peers that serve it in another scope are read the same way (the name shows where it was).
    expect(k.interpret(S, vcc('IM_Transfer_Set'), { type: 'boolean', value: true })).toMatchObject({ value: { kind: 'IM_Transfer_Set' } });
  });
});
