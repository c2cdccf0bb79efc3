/**
 * Capture items as JSON objects, one per line in `gridgate mms decode --json`: every item has
 * `kind`, `frame`, `time` (ISO 8601), `stream`, `client` and `server`; the rest depends on the
 * kind. Values follow `data-format.ts` (plain JSON), RCBs and reports `iec61850/format.ts`.
 */
import { captureTimeIso } from '../../protocols/capture/reader.js';
import { AssociateResult, type Aare, type Aarq } from '../../protocols/iso/index.js';
import { namedBits, PARAMETER_CBB, REJECT_CLASSES, SERVICES_SUPPORTED, type Initiate } from '../../protocols/mms/index.js';
import { findingsJson, rcbAttributeJson, rcbJson, reportJson } from '../iec61850/format.js';
import { namedField } from '../iec61850/named-value.js';
import type { AccessedVariable, At, MmsCaptureItem, MmsCaptureItemKind, PairMeaning } from './capture-items.js';
import type { MmsCaptureSummary } from './capture-decode.js';
import { dataJson, jsonSafe, type Json } from './data-format.js';

type Item<K extends MmsCaptureItemKind> = Extract<MmsCaptureItem, { kind: K }>;

const atJson = (a: At): Record<string, Json> => ({ frame: a.frame, ...(a.time === undefined ? {} : { time: captureTimeIso(a.time) }) });

/** The MMS initiate parameters, services and CBBs by name. */
export function initiateJson(i: Initiate): Json {
  return {
    ...(i.localDetail === undefined ? {} : { maxPduSize: i.localDetail }),
    maxServOutstandingCalling: i.maxServOutstandingCalling,
    maxServOutstandingCalled: i.maxServOutstandingCalled,
    ...(i.dataStructureNestingLevel === undefined ? {} : { dataStructureNestingLevel: i.dataStructureNestingLevel }),
    versionNumber: i.detail.versionNumber,
    parameterCBB: namedBits(i.detail.parameterCBB, PARAMETER_CBB),
    servicesSupported: namedBits(i.detail.servicesSupported, SERVICES_SUPPORTED),
  };
}

function variableJson(v: AccessedVariable): Json {
  const attribute = v.rcb?.attribute;
  return {
    ...(v.name === undefined ? {} : { name: v.name }),
    ...(v.rcb === undefined ? {} : { rcb: jsonSafe(v.rcb) }),
    ...(v.value === undefined
      ? {}
      : {
          type: v.value.type,
          value: attribute === undefined ? dataJson(v.value) : rcbAttributeJson(attribute, v.value),
          ...(attribute === undefined ? namedField(v.value, v.type) : {}),
        }),
    ...(v.failure === undefined ? {} : { failure: v.failure }),
    ...(v.block === undefined ? {} : v.block.ok ? { block: rcbJson(v.block.rcb, v.rcb?.reference) } : { blockError: v.block.reason }),
  };
}

function meaningJson(m: PairMeaning): Record<string, Json> {
  switch (m.type) {
    case 'read':
    case 'write':
      return { ...(m.list === undefined ? {} : { list: m.list }), variables: m.variables.map(variableJson) };
    case 'data-set':
      return {
        dataSet: {
          name: m.name,
          ...(m.members === undefined ? {} : { members: [...m.members] }),
          ...(m.deletable === undefined ? {} : { deletable: m.deletable }),
        },
      };
    case 'type-description':
      return {
        variable: m.name,
        ...(m.description === undefined
          ? {}
          : m.description.ok
            ? { typeDescription: jsonSafe(m.description.type) }
            : { typeDescriptionError: m.description.reason }),
      };
    case 'other':
      return {};
  }
}

/**
 * An AARQ or AARE without `hidden` fields, its ACSE `type` tag and its user information (the MMS
 * initiate, rendered on its own).
 */
function acseJson(apdu: Aarq | Aare, hidden: readonly string[]): Record<string, Json> {
  const skip = ['type', 'userInformation', ...hidden];
  return Object.fromEntries(Object.entries(apdu).flatMap(([k, v]) => (skip.includes(k) || v === undefined ? [] : [[k, jsonSafe(v)]])));
}

/** The decoded request or response, for services without an IEC 61850 meaning and (as before types were read) getVariableAccessAttributes. */
const raw = (i: Item<'confirmed'>, value: unknown): Record<string, Json> =>
  i.meaning.type === 'other' || i.meaning.type === 'type-description' ? { value: jsonSafe(value) } : {};

/** Fields per item kind, after the common ones. */
const KINDS: { readonly [K in MmsCaptureItemKind]: (item: Item<K>) => Record<string, Json> } = {
  'associate-request': (i) => {
    const aarq = acseJson(i.aarq, ['callingAuthenticationValue']);
    return {
      aarq: { ...aarq, ...(i.aarq.callingAuthenticationValue === undefined ? {} : { password: 'present, not shown' }) },
      ...(i.initiate === undefined ? {} : { initiate: initiateJson(i.initiate) }),
    };
  },
  'associate-response': (i) => {
    const result = Object.entries(AssociateResult).find(([, n]) => n === i.aare.result)?.[0] ?? i.aare.result;
    return {
      accepted: i.accepted,
      aare: { ...acseJson(i.aare, []), result },
      ...(i.initiate === undefined ? {} : { initiate: initiateJson(i.initiate) }),
      ...(i.initiateError === undefined ? {} : { initiateError: jsonSafe(i.initiateError) }),
    };
  },
  confirmed: (i) => ({
    invokeId: i.invokeId,
    service: i.service,
    // Services without an IEC 61850 meaning carry their decoded request and response instead.
    ...(i.request === undefined ? {} : { request: { ...atJson(i.request), ...raw(i, i.request.value) } }),
    ...(i.response === undefined ? {} : { response: { ...atJson(i.response), ...raw(i, i.response.value) } }),
    ...(i.error === undefined ? {} : { error: { ...atJson(i.error), value: jsonSafe(i.error.value) } }),
    ...(i.rejected === undefined
      ? {}
      : {
          rejected: {
            ...atJson(i.rejected),
            rejectClass: REJECT_CLASSES[i.rejected.rejectClass] ?? i.rejected.rejectClass,
            reason: i.rejected.reason,
          },
        }),
    answered: i.response !== undefined || i.error !== undefined || i.rejected !== undefined,
    ...meaningJson(i.meaning),
  }),
  report: (i) =>
    i.report.ok
      ? {
          report: reportJson(i.report.value),
          ...(i.rcb === undefined ? {} : { rcb: i.rcb }),
          ...(i.membersFrom === undefined ? {} : { membersFrom: i.membersFrom }),
          ...(i.segmentFrames === undefined ? {} : { segmentFrames: [...i.segmentFrames] }),
        }
      : { malformed: { offset: i.report.offset, reason: i.report.reason }, pdu: jsonSafe(i.pdu) },
  'information-report': (i) => ({
    variables: i.variables.map((v) => ({
      ...(v.name === undefined ? {} : { name: v.name }),
      ...(v.result.success
        ? { type: v.result.data.type, value: dataJson(v.result.data), ...namedField(v.result.data, v.type) }
        : { failure: v.result.errorName }),
    })),
  }),
  pdu: (i) => ({ from: i.from, pdu: jsonSafe(i.pdu) }),
  session: (i) => ({ from: i.from, event: i.event, ...(i.detail === undefined ? {} : { detail: i.detail }) }),
  gap: (i) => ({ from: i.from, missing: i.missing, reason: i.reason }),
  malformed: (i) => ({ from: i.from, layer: i.layer, offset: i.offset, reason: i.reason }),
};

/** An item as one JSON object. */
export function itemJson(item: MmsCaptureItem): Record<string, Json> {
  const fields = (KINDS[item.kind] as (i: MmsCaptureItem) => Record<string, Json>)(item);
  return { kind: item.kind, ...atJson(item), stream: item.stream, client: item.client, server: item.server, ...fields };
}

/** The summary as one JSON object with `kind: "summary"`. */
export function summaryJson(s: MmsCaptureSummary): Record<string, Json> {
  const { findings, ...rest } = s;
  return { kind: 'summary', ...(jsonSafe(rest) as Record<string, Json>), findings: findingsJson(findings) };
}
