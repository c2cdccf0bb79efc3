/**
 * The offline TASE.2 capture decoder behind `gridgate tase2 decode`: the MMS capture decoder
 * (`apps/mms/capture-decode.ts`: every TCP conversation through its passive ISO stack, requests
 * paired with responses, information reports with their variable names) and, on its items, the
 * TASE.2 reading: VCC and ICC objects named and typed (`decode-meaning.ts`), types announced by
 * getVariableAccessAttributes recognised as 802 types, transfer sets written whole or attribute by
 * attribute, and transfer reports (an information report whose first variable is
 * Transfer_Set_Name) with their time stamp, detected conditions and every member typed and flagged.
 * What has no TASE.2 meaning (association set-up, data set definitions, session events, gaps,
 * malformed PDUs) is passed on as the MMS item it is. Nothing is thrown for bad traffic.
 */
import { CaptureReader, type CapturePacket } from '../../protocols/capture/reader.js';
import { OBJECT_CLASSES, type AccessResult, type ConfirmedRequest, type ObjectName } from '../../protocols/mms/index.js';
import { kindOfName, type DsCondition, type Tase2Kind, type Tase2ObjectName } from '../../protocols/tase2/index.js';
import { MmsCaptureDecoder, type MmsCaptureOptions, type MmsCaptureSummary } from '../mms/capture-decode.js';
import { listName } from '../mms/capture-meaning.js';
import type { ItemBase, MmsCaptureItem } from '../mms/capture-items.js';
import { refOfName, refOfText, Tase2Knowledge, type Tase2Object, type Tase2Ref } from './decode-meaning.js';

type Confirmed = Extract<MmsCaptureItem, { kind: 'confirmed' }>;

/** What `gridgate tase2 decode` finds, discriminated by `kind`. */
export type Tase2CaptureItem =
  | (ItemBase & {
      readonly kind: 'read' | 'write';
      readonly invokeId: number;
      readonly requestFrame?: number;
      /** The named variable list (data set) read, when the request names one. */
      readonly list?: string;
      readonly objects: readonly Tase2Object[];
      readonly answered: boolean;
    })
  | (ItemBase & {
      readonly kind: 'type';
      readonly invokeId: number;
      readonly ref: Tase2Ref;
      /** The announced MMS type as text, and the 802 types it fits (first: the one whose component names match). */
      readonly spec?: string;
      readonly kinds?: readonly Tase2Kind[];
      readonly error?: string;
    })
  | (ItemBase & {
      readonly kind: 'names';
      readonly invokeId: number;
      /** `ICC domains`, `VCC variables`, `ICC1 variables`, `ICC1 data sets` ... */
      readonly what: string;
      readonly identifiers: readonly string[];
      /** The names whose type 802 fixes. */
      readonly known: readonly { readonly name: string; readonly kind: Tase2Kind }[];
    })
  | (ItemBase & {
      readonly kind: 'transfer-report';
      readonly transferSet?: Tase2ObjectName;
      readonly timeStamp?: number;
      readonly conditions?: readonly DsCondition[];
      readonly eventCode?: number;
      /** Every variable of the report, the report variables included, in order. */
      readonly objects: readonly Tase2Object[];
    })
  | (ItemBase & { readonly kind: 'information-report'; readonly objects: readonly Tase2Object[] })
  | (ItemBase & { readonly kind: 'mms'; readonly item: MmsCaptureItem });

export type Tase2CaptureItemKind = Tase2CaptureItem['kind'];

/** The MMS summary and what the TASE.2 reading made of it. */
export interface Tase2CaptureSummary {
  readonly mms: MmsCaptureSummary;
  readonly items: Readonly<Partial<Record<Tase2CaptureItemKind, number>>>;
  /** Values typed, by where the type came from, and those left untyped or not fitting their type. */
  readonly values: { readonly typed: number; readonly untyped: number; readonly errors: number };
}

const base = (i: MmsCaptureItem): ItemBase => ({
  frame: i.frame,
  ...(i.time === undefined ? {} : { time: i.time }),
  stream: i.stream,
  client: i.client,
  server: i.server,
});

/** getNameList scopes and classes as people say them for TASE.2. */
function namesWhat(req: Extract<ConfirmedRequest, { service: 'getNameList' }> | undefined): string {
  if (req === undefined) return 'names';
  const cls = OBJECT_CLASSES[req.objectClass] ?? `class ${req.objectClass}`;
  const where = req.scope.kind === 'domain' ? req.scope.domainId : req.scope.kind === 'vmd' ? 'VCC' : 'association';
  if (cls === 'domain') return 'ICC domains';
  return `${where} ${cls === 'namedVariable' ? 'variables' : cls === 'namedVariableList' ? 'data sets' : cls}`;
}

/** Decodes TASE.2 in captured packets; feed packets in capture order, then call {@link end}. */
export class Tase2CaptureDecoder {
  readonly #mms: MmsCaptureDecoder;
  readonly #knowledge = new Tase2Knowledge();
  readonly #kinds = new Map<Tase2CaptureItemKind, number>();
  #typed = 0;
  #untyped = 0;
  #errors = 0;
  /**
   * Data set members as ObjectNames (the MMS decoder keeps them as text, where an
   * association-scope name reads as a VCC one), by server or, for an association's own list, by
   * stream; from definitions and directory answers in the capture.
   */
  readonly #lists = new Map<string, readonly ObjectName[]>();

  constructor(options: MmsCaptureOptions = {}) {
    this.#mms = new MmsCaptureDecoder(options);
  }

  /** Feeds one packet; returns the items it completed. */
  push(packet: CapturePacket): Tase2CaptureItem[] {
    return this.#mms.push(packet).map((i) => this.#item(i));
  }

  /** The capture has ended: the items still held. */
  end(): Tase2CaptureItem[] {
    return this.#mms.end().map((i) => this.#item(i));
  }

  summary(): Tase2CaptureSummary {
    return {
      mms: this.#mms.summary(),
      items: Object.fromEntries(this.#kinds),
      values: { typed: this.#typed, untyped: this.#untyped, errors: this.#errors },
    };
  }

  #item(i: MmsCaptureItem): Tase2CaptureItem {
    const out = this.#interpret(i);
    this.#kinds.set(out.kind, (this.#kinds.get(out.kind) ?? 0) + 1);
    if ('objects' in out) {
      for (const o of out.objects) {
        if (o.failure !== undefined) continue;
        if (o.error !== undefined) this.#errors++;
        else if (o.value !== undefined || o.member !== undefined) this.#typed++;
        else if (o.data !== undefined) this.#untyped++;
      }
    }
    return out;
  }

  #interpret(i: MmsCaptureItem): Tase2CaptureItem {
    if (i.kind === 'information-report') return this.#report(i);
    if (i.kind !== 'confirmed') return { ...base(i), kind: 'mms', item: i };
    const req = i.request?.value;
    const res = i.response?.value;
    if (req?.service === 'defineNamedVariableList' && res?.service === req.service) {
      this.#lists.set(
        this.#listKey(i, req.variableListName),
        req.variables.map((v) => v.name),
      );
    }
    if (req?.service === 'getNamedVariableListAttributes' && res?.service === req.service) {
      this.#lists.set(
        this.#listKey(i, req.name),
        res.variables.map((v) => v.name),
      );
    }
    const reqAt = i.request === undefined ? {} : { requestFrame: i.request.frame };
    if (i.meaning.type === 'read' || i.meaning.type === 'write') return this.#access(i, i.meaning.type);
    // Unanswered, refused or rejected requests read as the MMS decoder shows them.
    if (i.service === 'getVariableAccessAttributes' && req?.service === i.service && res?.service === i.service) {
      const ref = refOfName(req.name);
      return { ...base(i), kind: 'type', invokeId: i.invokeId, ref, ...this.#knowledge.announced(i.server, ref, res.typeDescription) };
    }
    if (i.service === 'getNameList' && res?.service === 'getNameList') {
      const identifiers = res.identifiers;
      const known = identifiers.flatMap((name) => {
        const kind = kindOfName(name);
        return kind === undefined ? [] : [{ name, kind }];
      });
      const nl = req?.service === 'getNameList' ? req : undefined;
      return { ...base(i), ...reqAt, kind: 'names', invokeId: i.invokeId, what: namesWhat(nl), identifiers, known };
    }
    return { ...base(i), kind: 'mms', item: i };
  }

  #access(i: Confirmed, kind: 'read' | 'write'): Tase2CaptureItem {
    const m = i.meaning as Extract<Confirmed['meaning'], { type: 'read' | 'write' }>;
    const req = i.request?.value;
    // The request's ObjectNames keep VCC and association scope apart; a data set read has only the member names.
    const spec = req?.service === 'read' || req?.service === 'write' ? req.variableAccessSpecification : undefined;
    const refs =
      spec?.kind === 'list'
        ? spec.variables.map((v) => refOfName(v.name))
        : m.variables.map((v) => (v.name === undefined ? undefined : refOfText(v.name)));
    const objects = m.variables.map((v, n): Tase2Object => {
      const ref = refs[n] ?? { scope: 'VCC' as const, name: `(variable ${n + 1})` };
      if (v.failure !== undefined) return { ref, failure: v.failure };
      if (v.value === undefined) return { ref };
      return this.#knowledge.interpret(i.server, ref, v.value);
    });
    return {
      ...base(i),
      kind,
      invokeId: i.invokeId,
      ...(i.request === undefined ? {} : { requestFrame: i.request.frame }),
      ...(m.list === undefined ? {} : { list: m.list }),
      objects,
      answered: i.response !== undefined || i.error !== undefined || i.rejected !== undefined,
    };
  }

  #listKey(i: MmsCaptureItem, name: ObjectName): string {
    return `${name.scope === 'aa' ? `stream ${i.stream}` : i.server} ${listName(name)}`;
  }

  #report(i: Extract<MmsCaptureItem, { kind: 'information-report' }>): Tase2CaptureItem {
    // The report's own ObjectNames (or its data set's) keep VCC and association scope apart; the text is the fallback.
    const spec = i.pdu.variableAccessSpecification;
    const names = spec.kind === 'list' ? spec.variables.map((v) => v.name) : this.#lists.get(this.#listKey(i, spec.name));
    const objects = i.variables.map((v, n): Tase2Object => {
      const known = names?.[n];
      const ref =
        known !== undefined
          ? refOfName(known)
          : v.name === undefined
            ? { scope: 'VCC' as const, name: `(variable ${n + 1})` }
            : refOfText(v.name);
      return v.result.success ? this.#knowledge.interpret(i.server, ref, v.result.data) : { ref, failure: failureName(v.result) };
    });
    const first = objects[0]?.value;
    if (first?.kind !== 'Transfer_Set_Name') return { ...base(i), kind: 'information-report', objects };
    const find = <K extends Tase2Kind>(k: K) =>
      objects.find((o) => o.value?.kind === k)?.value as Extract<Tase2Object['value'], { kind: K }> | undefined;
    const ts = find('Transfer_Set_Time_Stamp');
    const dc = find('DSConditions_Detected');
    const ec = find('Event_Code_Detected');
    return {
      ...base(i),
      kind: 'transfer-report',
      transferSet: first.name,
      ...(ts === undefined ? {} : { timeStamp: ts.timeStamp }),
      ...(dc === undefined ? {} : { conditions: dc.conditions }),
      ...(ec === undefined ? {} : { eventCode: ec.code }),
      objects,
    };
  }
}

const failureName = (r: Extract<AccessResult, { success: false }>): string => r.errorName;

/** Decodes a whole capture held in memory: its items in capture order and the summary. Throws only for a broken file. */
export function decodeTase2Capture(
  bytes: Uint8Array,
  options: MmsCaptureOptions = {},
): { items: Tase2CaptureItem[]; summary: Tase2CaptureSummary } {
  const reader = new CaptureReader();
  const decoder = new Tase2CaptureDecoder(options);
  const items = reader.push(bytes).flatMap((p) => decoder.push(p));
  reader.end();
  items.push(...decoder.end());
  return { items, summary: decoder.summary() };
}
