/**
 * Structure components named in captures of other implementations: libiec61850's control session
 * (../shared/data/captures/mms-libiec61850-urcb.pcap) describes GGIO1$CO$SPCSOn before writing
 * Oper, and the TASE.2-shaped capture describes each data value before reading it. What the
 * capture does not describe stays positional.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMmsCapture } from './capture-decode.js';
import { formatItem } from './capture-format.js';
import { itemJson } from './capture-json.js';
import { TypeCatalogue } from './type-catalogue.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url))));
const URCB = fixture('mms-libiec61850-urcb.pcap');

const textOf = (bytes: Uint8Array, frame: number, types?: TypeCatalogue): string[] => {
  const item = decodeMmsCapture(bytes, types === undefined ? {} : { types }).items.find((i) => i.frame === frame);
  if (item === undefined) throw new Error(`no item at frame ${frame}`);
  return formatItem(item);
};

describe('names from the type descriptions in a capture', () => {
  it("libiec61850's getVariableAccessAttributes of a control object is shown as a type tree", () => {
    expect(textOf(URCB, 37)).toEqual([
      'frame 37  2026-11-21T10:27:43.209715Z  stream 1  getVariableAccessAttributes (invokeID 2) (request frame 36)',
      '  simpleIOGenericIO/GGIO1$CO$SPCSO1',
      '  type description of 128 octets, deletable false',
      '  structure',
      '    Oper',
      '      ctlVal  boolean',
      '      origin',
      '        orCat  integer(8)',
      '        orIdent  octet-string(<=64)',
      '      ctlNum  unsigned(8)',
      '      T  utc-time',
      '      Test  boolean',
      '      Check  bit-string(<=2)',
    ]);
  });

  it('the Oper written after it is named component by component, in text and JSON (the positional value kept)', () => {
    expect(textOf(URCB, 39)[1]).toBe(
      "  simpleIOGenericIO/GGIO1$CO$SPCSO1$Oper = {ctlVal=true, origin={orCat=3, orIdent=''H}, ctlNum=1, T=2026-11-21T10:27:43.219Z (accuracy 0 bits), Test=false, Check='00'B}  success",
    );
    const item = decodeMmsCapture(URCB).items.find((i) => i.frame === 39)!;
    expect(itemJson(item)['variables']).toEqual([
      {
        name: 'simpleIOGenericIO/GGIO1$CO$SPCSO1$Oper',
        type: 'structure',
        value: [true, [3, ''], 1, '2026-11-21T10:27:43.219Z', false, '00'],
        named: {
          ctlVal: true,
          origin: { orCat: 3, orIdent: '' },
          ctlNum: 1,
          T: {
            time: '2026-11-21T10:27:43.219Z',
            quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 0 },
          },
          Test: false,
          Check: '00',
        },
      },
    ]);
  });

  it('guesses nothing: SBOw, which the description of SPCSO4 does not have, stays positional', () => {
    expect(textOf(URCB, 67)[1]).toBe(
      "  simpleIOGenericIO/GGIO1$CO$SPCSO4$SBOw = {true, {0, ''H}, 1, 2026-11-21T10:27:44.436Z, false, '00'B}  failed: object-non-existent",
    );
  });

  it('types given by the user (as --scl gives them) name what the capture does not describe', () => {
    const given = new TypeCatalogue();
    given.set('simpleIOGenericIO/GGIO1$CO$SPCSO4', {
      kind: 'structure',
      components: [{ name: 'SBOw', type: { kind: 'structure', components: ['ctlVal', 'origin', 'ctlNum', 'T', 'Test', 'Check'].map((name) => ({ name, type: { kind: 'other', tag: 0 } })) } }],
    }); // prettier-ignore
    expect(textOf(URCB, 67, given)[1]).toMatch(/SBOw = \{ctlVal=true, origin=\{0, ''H\}, ctlNum=1, T=.*, Test=false, Check='00'B\}/);
  });

  it('the TASE.2-shaped capture: each data value read after its description is named, in reads and transfer reports', () => {
    const { items } = decodeMmsCapture(fixture('tase2-shaped-libiec61850.pcap'));
    const reads = items.filter((i) => i.kind === 'confirmed' && i.service === 'read').flatMap((i) => formatItem(i).slice(1));
    expect(reads).toContain("  ICC1/Voltage_A = {Value=230, TimeStamp=1796644306, Flags='00000000'B}");
    expect(reads).toContain("  ICC1/Line_P = {Value=100, TimeStamp=1796644306, Flags='00000000'B, COV=0}");
    // and so are the members of the transfer reports that follow (information reports of the data set).
    const transfer = items.find((i) => i.kind === 'information-report' && i.frame === 57)!;
    expect(formatItem(transfer)).toContain("  ICC1/Voltage_A = {Value=231.636, TimeStamp=1796644307, Flags='00000000'B}");
    expect(itemJson(transfer)['variables']).toContainEqual(
      expect.objectContaining({ name: 'ICC1/Voltage_A', named: { Value: 231.636, TimeStamp: 1796644307, Flags: '00000000' } }),
    );
  });
});
