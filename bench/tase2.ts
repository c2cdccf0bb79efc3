/**
 * TASE.2 value codecs (one core): a transfer report's worth of values, a 10-point data set of
 * RealQTimeTag (issue 12 §7), as an MMS informationReport PDU decoded and every point typed by
 * position and type; and the typed values encoded back. The figure to compare with the issue's
 * target of 50,000 values/s decoded by one client process, before any network cost.
 */
import { decodeMmsPdu, encodeMmsPdu, type MmsData, type MmsPdu } from '../src/protocols/mms/index.js';
import { decodeTase2Value, encodeTase2Value, tase2Type, type Tase2Value } from '../src/protocols/tase2/index.js';
import { line, measure, rate } from './stats.js';

const POINTS = 10;
const ROW = tase2Type('RealQTimeTag')!;
const FLAGS = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;

function data(v: Tase2Value): MmsData {
  const r = encodeTase2Value(ROW, v);
  if (!r.ok) throw new Error(`bench value does not encode: ${r.reason}`);
  return r.value;
}

export function tase2Bench(): Record<string, number> {
  console.log(`TASE.2 value codecs (one core, ${POINTS}-point RealQTimeTag transfer report)`);
  const values: Tase2Value[] = Array.from({ length: POINTS }, (_, i) => ({
    kind: 'RealQTimeTag',
    value: 230 + i / 8,
    timeStamp: 1_700_000_000_000 + i * 1000,
    flags: FLAGS,
  }));
  const pdu: MmsPdu = {
    pdu: 'unconfirmed',
    report: {
      variableAccessSpecification: {
        kind: 'list',
        variables: values.map((_, i) => ({ name: { scope: 'domain', domainId: 'ICC1', itemId: `Point_${i}` } })),
      },
      results: values.map((v) => ({ success: true, data: data(v) })),
    },
  };
  const bytes = encodeMmsPdu(pdu);
  let sink = 0;
  const decode = measure(() => {
    const d = decodeMmsPdu(bytes);
    if (!d.ok || d.value.pdu !== 'unconfirmed') return;
    for (const r of d.value.report.results) if (r.success && decodeTase2Value(ROW, r.data).ok) sink++;
  });
  const typed = values.map(data);
  const typeOnly = measure(() => {
    for (const d of typed) if (decodeTase2Value(ROW, d).ok) sink++;
  });
  const encode = measure(() => {
    for (const v of values) if (encodeTase2Value(ROW, v).ok) sink++;
  });
  if (sink === 0) throw new Error('nothing decoded');
  line(
    'report PDU decoded, every point typed',
    rate(decode * POINTS, 1000),
    `values (${rate(decode, 1000)} reports of ${bytes.length} octets)`,
  );
  line('MMS Data -> RealQTimeTag', rate(typeOnly * POINTS, 1000), 'values');
  line('RealQTimeTag -> MMS Data', rate(encode * POINTS, 1000), 'values');
  return { decodeValues: decode * POINTS, typeValues: typeOnly * POINTS, encodeValues: encode * POINTS };
}
