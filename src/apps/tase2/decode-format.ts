/**
 * `gridgate tase2 decode` items as text and JSON. Text: a title line (frame, capture time, TCP
 * stream, what happened), then one line per object: its name, its 802 type and where the type
 * came from, and its value with every member and flag named. JSON: one object per item with
 * `kind`, `frame`, `time` (ISO 8601), `stream`, `client`, `server`; objects carry `name`, `scope`,
 * `type`, `typeFrom` and `value` (see `format.ts`). Items without a TASE.2 meaning are rendered
 * by the MMS decoder's own formatting, under `kind: "mms"` in JSON.
 */
import { captureTimeIso } from '../../protocols/capture/reader.js';
import { formatItem, formatSummary } from '../mms/capture-format.js';
import { itemJson, summaryJson } from '../mms/capture-json.js';
import { dataJson, formatData, msIso, type Json } from '../mms/data-format.js';
import type { Tase2CaptureItem, Tase2CaptureItemKind, Tase2CaptureSummary } from './decode.js';
import { refText, type Tase2Object } from './decode-meaning.js';
import { formatTase2Value, memberJson, memberText, tase2ValueJson } from './format.js';

/** The item of kind `K` (read and write share one shape). */
type Item<K extends Tase2CaptureItemKind> = Tase2CaptureItem extends infer T
  ? T extends { kind: infer X }
    ? K extends X
      ? T
      : never
    : never
  : never;

/** Names listed before the rest are counted. */
const NAMES_SHOWN = 40;

const FROM_TEXT = { name: 'by name', 'transfer-set': 'transfer set', announced: 'announced type', shape: 'by shape' } as const;

/** `ICC1/Voltage_A  RealQTimeTag (announced type)  Value 231.6, ...`: one object in one line. */
export function formatObject(o: Tase2Object): string {
  const name = refText(o.ref);
  if (o.failure !== undefined) return `${name}  failed: ${o.failure}`;
  const from = o.typeFrom === undefined ? '' : ` (${FROM_TEXT[o.typeFrom]})`;
  const alt = o.alternatives === undefined ? '' : `  [also fits ${o.alternatives.join(', ')}]`;
  if (o.value !== undefined) return `${name}  ${o.value.kind}${from}  ${formatTase2Value(o.value)}${alt}`;
  if (o.member !== undefined) return `${name}  DSTransferSet ${o.member.component}${from}  ${memberText(o.member)}`;
  const data = o.data === undefined ? '' : `  ${formatData(o.data)}`;
  if (o.error !== undefined)
    return `${name}${from}${data}  does not fit its type: ${o.error.kind}${o.error.path === '' ? '' : ` at ${o.error.path}`}: ${o.error.reason}`;
  const why = o.candidates === undefined ? 'no TASE.2 type fits' : `type unknown, fits ${o.candidates.join(' or ')}`;
  return `${name}${data}  (${why})`;
}

export function objectJson(o: Tase2Object): Record<string, Json> {
  return {
    name: refText(o.ref),
    scope: o.ref.scope,
    ...(o.ref.domain === undefined ? {} : { domain: o.ref.domain }),
    ...(o.failure === undefined ? {} : { failure: o.failure }),
    ...(o.value === undefined ? {} : { type: o.value.kind, value: tase2ValueJson(o.value) }),
    ...(o.member === undefined ? {} : { type: 'DSTransferSet', attribute: o.member.component, value: memberJson(o.member) }),
    ...(o.typeFrom === undefined ? {} : { typeFrom: o.typeFrom }),
    ...(o.alternatives === undefined ? {} : { alternatives: [...o.alternatives] }),
    ...(o.candidates === undefined ? {} : { candidates: [...o.candidates] }),
    ...(o.data === undefined ? {} : { mms: dataJson(o.data), mmsType: o.data.type }),
    ...(o.error === undefined ? {} : { error: { kind: o.error.kind, path: o.error.path, reason: o.error.reason } }),
  };
}

const objects = (os: readonly Tase2Object[]): string[] => os.map(formatObject);
const request = (i: { requestFrame?: number; frame: number }): string =>
  i.requestFrame === undefined ? ' (request not in the capture)' : i.requestFrame === i.frame ? '' : ` (request frame ${i.requestFrame})`;

/** Title and lines per TASE.2 item kind; `mms` items use the MMS decoder's text. */
const TEXT: { readonly [K in Exclude<Tase2CaptureItemKind, 'mms'>]: (i: Item<K>) => { title: string; lines: string[] } } = {
  read: (i) => ({
    title: `read${i.list === undefined ? '' : ` of data set ${i.list}`} (invokeID ${i.invokeId})${request(i)}`,
    lines: [...objects(i.objects), ...(i.answered ? [] : ['no response in the capture'])],
  }),
  write: (i) => ({
    title: `write (invokeID ${i.invokeId})${request(i)}`,
    lines: [...objects(i.objects), ...(i.answered ? [] : ['no response in the capture'])],
  }),
  type: (i) => ({
    title: `type of ${i.ref === undefined ? '(request not in the capture)' : refText(i.ref)} (invokeID ${i.invokeId})`,
    lines:
      i.error !== undefined
        ? [`type description malformed: ${i.error}`]
        : i.spec === undefined
          ? ['no answer in the capture']
          : [
              `MMS type ${i.spec}`,
              i.kinds === undefined || i.kinds.length === 0 ? 'no TASE.2 type fits' : `TASE.2 type ${i.kinds.join(' or ')}`,
            ],
  }),
  names: (i) => ({
    title: `${i.what} (invokeID ${i.invokeId})${request(i)}`,
    lines: [
      `${i.identifiers.length} name(s): ${i.identifiers.slice(0, NAMES_SHOWN).join(' ')}${i.identifiers.length > NAMES_SHOWN ? ` ... and ${i.identifiers.length - NAMES_SHOWN} more` : ''}`,
      ...(i.known.length === 0
        ? []
        : [`TASE.2 objects: ${i.known.map((k) => (k.name === k.kind ? k.name : `${k.name} (${k.kind})`)).join(', ')}`]),
    ],
  }),
  'transfer-report': (i) => ({
    title: `transfer report${i.transferSet === undefined ? '' : ` of ${i.transferSet.domain === '' ? '' : `${i.transferSet.domain}/`}${i.transferSet.name}`}`,
    lines: [
      [
        ...(i.timeStamp === undefined ? [] : [`time stamp ${msIso(i.timeStamp).replace('.000Z', 'Z')}`]),
        ...(i.conditions === undefined ? [] : [`conditions ${i.conditions.length === 0 ? 'none' : i.conditions.join(' ')}`]),
        ...(i.eventCode === undefined ? [] : [`event code ${i.eventCode}`]),
      ].join(', '),
      ...objects(i.objects),
    ].filter((l) => l !== ''),
  }),
  'information-report': (i) => ({ title: 'information report', lines: objects(i.objects) }),
};

/** An item as text: the title line, then its objects indented by two spaces. */
export function formatTase2Item(item: Tase2CaptureItem): string[] {
  if (item.kind === 'mms') return formatItem(item.item);
  const { title, lines } = (TEXT[item.kind] as (i: Tase2CaptureItem) => { title: string; lines: string[] })(item);
  const time = item.time === undefined ? '' : `  ${captureTimeIso(item.time)}`;
  return [`frame ${item.frame}${time}  stream ${item.stream}  ${title}`, ...lines.map((l) => `  ${l}`)];
}

/** An item as one JSON object. */
export function tase2ItemJson(item: Tase2CaptureItem): Record<string, Json> {
  if (item.kind === 'mms') return { ...itemJson(item.item), kind: 'mms', mmsKind: item.item.kind };
  const head = {
    kind: item.kind,
    frame: item.frame,
    ...(item.time === undefined ? {} : { time: captureTimeIso(item.time) }),
    stream: item.stream,
    client: item.client,
    server: item.server,
  };
  switch (item.kind) {
    case 'read':
    case 'write':
      return {
        ...head,
        invokeId: item.invokeId,
        ...(item.requestFrame === undefined ? {} : { requestFrame: item.requestFrame }),
        ...(item.list === undefined ? {} : { list: item.list }),
        answered: item.answered,
        objects: item.objects.map(objectJson),
      };
    case 'type':
      return {
        ...head,
        invokeId: item.invokeId,
        ...(item.ref === undefined ? {} : { name: refText(item.ref) }),
        ...(item.spec === undefined ? {} : { mmsType: item.spec, types: [...(item.kinds ?? [])] }),
        ...(item.error === undefined ? {} : { error: item.error }),
      };
    case 'names':
      return {
        ...head,
        invokeId: item.invokeId,
        what: item.what,
        identifiers: [...item.identifiers],
        known: item.known.map((k) => ({ ...k })),
      };
    case 'transfer-report':
      return {
        ...head,
        ...(item.transferSet === undefined ? {} : { transferSet: { ...item.transferSet } }),
        ...(item.timeStamp === undefined ? {} : { timeStamp: msIso(item.timeStamp) }),
        ...(item.conditions === undefined ? {} : { conditions: [...item.conditions] }),
        ...(item.eventCode === undefined ? {} : { eventCode: item.eventCode }),
        objects: item.objects.map(objectJson),
      };
    case 'information-report':
      return { ...head, objects: item.objects.map(objectJson) };
  }
}

/** The summary: the MMS decoder's, then the TASE.2 reading. */
export function formatTase2Summary(s: Tase2CaptureSummary): string[] {
  const kinds = Object.entries(s.items).map(([k, n]) => `${n} ${k}`);
  return [
    ...formatSummary(s.mms, { findings: false }),
    `  TASE.2: ${kinds.length === 0 ? 'no items' : kinds.join(', ')}`,
    `  values: ${s.values.typed} typed, ${s.values.untyped} of unknown type, ${s.values.errors} not fitting their type`,
  ];
}

export function tase2SummaryJson(s: Tase2CaptureSummary): Record<string, Json> {
  return { ...summaryJson(s.mms), tase2: { items: { ...s.items }, values: { ...s.values } } };
}
