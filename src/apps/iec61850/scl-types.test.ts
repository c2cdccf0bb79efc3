/** The MMS types of the hand-written ICD fixture's logical nodes, and how SCL problems are reported. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { loadSclTypes, sclTypes } from './scl-types.js';

const FIXTURE = join(import.meta.dirname, '../../../test/fixtures/iec61850-sim.icd');
const QUALITY = { kind: 'bit-string', size: 13, quality: true };

describe('types from SCL', () => {
  const c = loadSclTypes(FIXTURE);

  it('maps a data object under its FC: attributes of that FC in template order, Quality marked by its basic type', () => {
    expect(c.lookup('SIMIEDLD0/GGIO1$ST$Ind1')).toEqual({
      name: 'Ind1',
      type: {
        kind: 'structure',
        components: [
          { name: 'stVal', type: { kind: 'boolean' } },
          { name: 'q', type: QUALITY },
          { name: 't', type: { kind: 'utc-time' } },
        ],
      },
    });
    expect(c.lookup('SIMIEDLD0/GGIO1$ST$Cnt1$actVal')?.type).toEqual({ kind: 'integer', size: 64 });
    expect(c.lookup('SIMIEDLD0/LLN0$ST$Mod$stVal')?.type).toEqual({ kind: 'integer', size: 8 }); // Enum
    expect(c.lookup('SIMIEDLD0/LLN0$DC$NamPlt$vendor')?.type).toEqual({ kind: 'visible-string', size: -255 });
  });

  it('follows DATypes (Struct) and sub-data-objects; an attribute of another FC is not under this one', () => {
    expect(c.lookup('SIMIEDLD0/MMXU1$MX$TotW$mag$f')?.type).toEqual({ kind: 'floating-point' });
    expect(c.lookup('SIMIEDLD0/MMXU1$MX$PhV$phsA$cVal$mag$f')?.type).toEqual({ kind: 'floating-point' });
    expect(c.lookup('SIMIEDLD0/LLN0$CF$Mod')?.type).toEqual({
      kind: 'structure',
      components: [{ name: 'ctlModel', type: { kind: 'integer', size: 8 } }],
    });
    expect(c.lookup('SIMIEDLD0/LLN0$ST$Mod$ctlModel')).toBeUndefined();
    expect(c.lookup('SIMIEDLD0/LLN0$EX$NamPlt$ldNs')?.type).toEqual({ kind: 'visible-string', size: -255 });
  });

  it('keeps template order when attributes and sub-data-objects interleave, and arrays by count', () => {
    const scl = `<SCL><IED name="I"><AccessPoint name="A"><Server><LDevice inst="L"><LN0 lnClass="LLN0" inst="" lnType="T"/></LDevice></Server></AccessPoint></IED>
<DataTypeTemplates><LNodeType id="T" lnClass="LLN0"><DO name="D" type="DT"/></LNodeType>
<DOType id="DT" cdc="X"><DA name="a" bType="BOOLEAN" fc="ST"/><SDO name="s" type="ST"/><DA name="b" bType="INT32" fc="ST" count="4"/></DOType>
<DOType id="ST" cdc="Y"><DA name="x" bType="Quality" fc="ST"/></DOType></DataTypeTemplates></SCL>`;
    expect(sclTypes('x.scd', scl).lookup('IL/LLN0$ST$D')?.type).toEqual({
      kind: 'structure',
      components: [
        { name: 'a', type: { kind: 'boolean' } },
        { name: 's', type: { kind: 'structure', components: [{ name: 'x', type: QUALITY }] } },
        { name: 'b', type: { kind: 'array', count: 4, element: { kind: 'integer', size: 32 } } },
      ],
    });
  });

  it('refuses a DOCTYPE and broken XML with the line', () => {
    expect(() => sclTypes('x.scd', '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<SCL/>')).toThrow(ConfigError);
    expect(() => sclTypes('x.scd', '<SCL>\n<IED></SCL>')).toThrow(/x\.scd:\d+.*not well-formed/);
  });
});
