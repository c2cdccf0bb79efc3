/**
 * The simulator's model from an SCL file (IEC 61850-6: ICD, CID, IID, SCD): one IED's logical
 * devices, logical nodes and their data objects of the CDCs in `cdc.ts` with starting values from
 * `DOI`/`DAI`/`Val`, data sets and report controls. The result is the YAML model shape, validated
 * by `validateSimModel`, so the simulator sees no difference. Data objects of other CDCs and
 * data-set members that do not resolve are left out and listed in `skipped`. The file is
 * untrusted: at most 64 MiB, no DOCTYPE (so no entity expansion), every problem a
 * {@link ConfigError} with its line.
 */
import { type ConfigIssue } from '../../core/errors.js';
import type { OptFldName, TrgOpName } from '../../protocols/iec61850/rcb.js';
import { CDCS, CDC_NAMES, type CdcName } from './cdc.js';
import { memberProblem, validateSimModel, type SimModel, type SimModelInput } from './config.js';
import {
  attr,
  children,
  lnName,
  named,
  parseSclXml,
  readSclText,
  SCL_TEXT as TEXT,
  sclFail,
  SclLines,
  type SclElement as Element,
} from '../iec61850/scl-document.js';

export { MAX_SCL_BYTES } from '../iec61850/scl-document.js';

/** A model loaded from SCL, with what was left out of it. */
export interface SclModel {
  readonly model: SimModel;
  /** Data objects of unsupported CDCs, members and data sets dropped: warnings to show. */
  readonly skipped: readonly ConfigIssue[];
}

/** Options of {@link parseSclModel}. */
export interface SclOptions {
  /** The IED to simulate; needed when the file describes several. */
  readonly ied?: string;
}

type PlainLd = SimModelInput['logicalDevices'][number];
type PlainLn = PlainLd['logicalNodes'][number];
type PlainDo = NonNullable<PlainLn['dataObjects']>[number];
type PlainRc = NonNullable<PlainLn['reportControls']>[number];

/**
 * Attributes of ReportControl and its TrgOps, OptFields and RptEnabled elements with the value an
 * absent attribute stands for: the `default` of the IEC 61850-6 Ed.2 schema (SCL 2007B,
 * tReportControl, tControlWithTriggerOpt, tTrgOps, agOptFields, tRptEnabled). Reading an absent
 * `gi` as false would make a block that refuses every GI. The Ed.1 schema has no `gi` nor
 * `bufOvfl` attribute, so these defaults serve files of either edition. confRev is required by
 * the schema; a file without it gets 1.
 */
const SCL_DEFAULTS = {
  ReportControl: { buffered: false, bufTime: 0, indexed: true, intgPd: 0, confRev: 1 },
  RptEnabled: { max: 1 },
} as const;

/** TrgOps attributes (tTrgOps): the TrgOp each sets and its schema default. */
const TRG_OPS: readonly { readonly scl: string; readonly op: Exclude<TrgOpName, 'reserved'>; readonly absent: boolean }[] = [
  { scl: 'dchg', op: 'data-change', absent: false },
  { scl: 'qchg', op: 'quality-change', absent: false },
  { scl: 'dupd', op: 'data-update', absent: false },
  { scl: 'period', op: 'integrity', absent: false },
  { scl: 'gi', op: 'general-interrogation', absent: true },
];
/** OptFields attributes (agOptFields) and their schema defaults; segmentation is left out: the server sets that bit itself. */
const OPT_FIELDS: readonly {
  readonly scl: string;
  readonly field: Exclude<OptFldName, 'reserved' | 'segmentation'>;
  readonly absent: boolean;
}[] = [
  { scl: 'seqNum', field: 'sequence-number', absent: false },
  { scl: 'timeStamp', field: 'report-time-stamp', absent: false },
  { scl: 'reasonCode', field: 'reason-for-inclusion', absent: false },
  { scl: 'dataSet', field: 'data-set-name', absent: false },
  { scl: 'dataRef', field: 'data-reference', absent: false },
  { scl: 'bufOvfl', field: 'buffer-overflow', absent: true },
  { scl: 'entryID', field: 'entryID', absent: false },
  { scl: 'configRef', field: 'conf-revision', absent: false },
];
const DBPOS_SCL: Readonly<Record<string, string>> = { 'intermediate-state': 'intermediate', 'bad-state': 'bad' };

const flag = (v: string | undefined, absent: boolean): boolean => (v === undefined ? absent : v === 'true' || v === '1');
const int = (v: string | undefined, absent: number): number => (v === undefined ? absent : Number(v));

/** The first `Val` of a DAI or DA, if any. */
function valOf(e: Element | undefined): string | undefined {
  const v = children(e, 'Val')[0];
  if (v === undefined) return undefined;
  const t = v[TEXT];
  return typeof t === 'string' || typeof t === 'number' ? String(t) : '';
}

/** Reads an SCL file (at most {@link MAX_SCL_BYTES}) and builds the model of one IED. */
export function loadSclModel(file: string, options: SclOptions = {}): SclModel {
  return parseSclModel(file, readSclText(file), options);
}

/** Parses SCL text and builds the model of one IED; `file` names the source in messages. */
export function parseSclModel(file: string, text: string, options: SclOptions = {}): SclModel {
  return new SclReader(file, text).read(options);
}

/** One SCL document being turned into a model. */
class SclReader {
  private readonly lineNumbers: SclLines;
  private readonly lines = new Map<string, number>();
  private readonly skipped: ConfigIssue[] = [];
  private doTypes = new Map<string, Element>();
  private lnTypes = new Map<string, Element>();
  private enumTypes = new Map<string, Element>();

  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {
    this.lineNumbers = new SclLines(text);
  }

  read(options: SclOptions): SclModel {
    const scl = parseSclXml(this.file, this.text, this.lineNumbers);
    const ied = this.chooseIed(scl, options.ied);
    this.indexTemplates(scl);
    const iedName = attr(ied, 'name') ?? '';
    const version = Number(attr(scl, 'version') ?? '2003');
    const plain: SimModelInput = { ied: iedName, edition: version >= 2007 ? 2 : 1, logicalDevices: [] };
    const manufacturer = attr(ied, 'manufacturer');
    if (manufacturer !== undefined)
      plain.identity = { vendor: manufacturer, model: attr(ied, 'type') ?? '', revision: attr(ied, 'configVersion') ?? '' };
    const lnElements: { ld: PlainLd; ln: PlainLn; e: Element; path: number[]; where: string }[] = [];
    for (const ap of children(ied, 'AccessPoint'))
      for (const server of children(ap, 'Server'))
        for (const lde of children(server, 'LDevice')) {
          const inst = attr(lde, 'inst') ?? '';
          const ld: PlainLd = { inst, logicalNodes: [] };
          const l = plain.logicalDevices.push(ld) - 1;
          this.mark(['logicalDevices', l], lde);
          const ln0 = children(lde, 'LN0');
          for (const lne of [...ln0, ...children(lde, 'LN')]) {
            const name = ln0.includes(lne) ? 'LLN0' : lnName(lne);
            const path = [l, ld.logicalNodes.length];
            const where = `IED[${iedName}]/LDevice[${inst}]/${name}`;
            const ln: PlainLn = { name, dataObjects: this.dataObjects(lne, where, path) };
            this.mark(['logicalDevices', ...path], lne);
            ld.logicalNodes.push(ln);
            lnElements.push({ ld, ln, e: lne, path, where });
          }
        }
    for (const { ld, ln, e, path, where } of lnElements) this.controls(plain, ld, ln, e, path, where);
    const lineOf = (p: readonly PropertyKey[]): number | undefined => {
      for (let n = p.length; n >= 0; n--) {
        const line = this.lines.get(p.slice(0, n).map(String).join('.'));
        if (line !== undefined) return line;
      }
      return undefined;
    };
    return { model: validateSimModel(this.file, plain, lineOf), skipped: this.skipped };
  }

  private chooseIed(scl: Element, wanted: string | undefined): Element {
    const ieds = children(scl, 'IED');
    const names = ieds.map((e) => attr(e, 'name') ?? '?').join(', ');
    if (ieds.length === 0) this.fail(this.line(scl), 'SCL', 'no IED element');
    if (wanted !== undefined) {
      const ied = named(ieds, wanted);
      if (ied === undefined) this.fail(this.line(scl), 'SCL', `no IED ${wanted}; the file has ${names}`);
      return ied;
    }
    if (ieds.length > 1) this.fail(this.line(scl), 'SCL', `${ieds.length} IEDs (${names}); choose one with --ied`);
    return ieds[0]!;
  }

  private indexTemplates(scl: Element): void {
    const templates = children(scl, 'DataTypeTemplates')[0];
    const byId = (tag: string): Map<string, Element> => new Map(children(templates, tag).map((e) => [attr(e, 'id') ?? '', e]));
    this.lnTypes = byId('LNodeType');
    this.doTypes = byId('DOType');
    this.enumTypes = byId('EnumType');
  }

  /** The supported data objects of a logical node's LNodeType, with starting values from its DOIs. */
  private dataObjects(lne: Element, where: string, path: number[]): PlainDo[] {
    const lnType = attr(lne, 'lnType') ?? '';
    const type = this.lnTypes.get(lnType);
    if (type === undefined) this.fail(this.line(lne), where, `no LNodeType ${lnType} in DataTypeTemplates`);
    const out: PlainDo[] = [];
    for (const doe of children(type, 'DO')) {
      const name = attr(doe, 'name') ?? '';
      const doTypeId = attr(doe, 'type') ?? '';
      const doType = this.doTypes.get(doTypeId);
      if (doType === undefined) this.fail(this.line(doe), `LNodeType[${lnType}]/DO[${name}]`, `no DOType ${doTypeId} in DataTypeTemplates`);
      const cdc = attr(doType, 'cdc') ?? '';
      const doi = named(children(lne, 'DOI'), name);
      if (!(CDC_NAMES as string[]).includes(cdc)) {
        this.skip(doi ?? lne, `${where}.${name}`, `data object of CDC ${cdc} left out (supported: ${CDC_NAMES.join(', ')})`);
        continue;
      }
      this.mark(['logicalDevices', path[0]!, 'logicalNodes', path[1]!, 'dataObjects', out.length], doi ?? doe);
      out.push({ name, cdc: cdc as CdcName, ...this.values(cdc as CdcName, doType, doi) });
    }
    return out;
  }

  /** Starting value (or LPL texts) from the DOI, else from the DOType's DA. */
  private values(cdc: CdcName, doType: Element, doi: Element | undefined): Partial<PlainDo> {
    const dai = (name: string): string | undefined =>
      valOf(named(children(doi, 'DAI'), name)) ?? valOf(named(children(doType, 'DA'), name));
    const kind = CDCS[cdc].kind;
    if (kind === 'none') {
      const texts: Partial<PlainDo> = {};
      for (const f of ['vendor', 'swRev', 'd', 'configRev'] as const) {
        const v = dai(f);
        if (v !== undefined) texts[f] = v;
      }
      return texts;
    }
    const raw = kind === 'FLOAT32' ? valOf(named(children(named(children(doi, 'SDI'), 'mag'), 'DAI'), 'f')) : dai('stVal');
    if (raw === undefined) return {};
    const number = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
    switch (kind) {
      case 'BOOLEAN':
        return { value: raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw };
      case 'Dbpos':
        return { value: DBPOS_SCL[raw] ?? raw };
      case 'ENUM':
        return { value: number ?? this.enumOrd(doType, raw) ?? raw };
      default:
        return { value: number ?? raw };
    }
  }

  /** The ord of an enumeration literal of a DOType's stVal. */
  private enumOrd(doType: Element, literal: string): number | undefined {
    const enumType = this.enumTypes.get(attr(named(children(doType, 'DA'), 'stVal'), 'type') ?? '');
    const ev = children(enumType, 'EnumVal').find((e) => String(e[TEXT] ?? '') === literal);
    return ev === undefined ? undefined : Number(attr(ev, 'ord'));
  }

  /** Data sets and report controls of a logical node, once every data object is known. */
  private controls(plain: SimModelInput, ld: PlainLd, ln: PlainLn, lne: Element, path: number[], where: string): void {
    const at = (...p: PropertyKey[]): PropertyKey[] => ['logicalDevices', path[0]!, 'logicalNodes', path[1]!, ...p];
    ln.dataSets = [];
    for (const dse of children(lne, 'DataSet')) {
      const name = attr(dse, 'name') ?? '';
      const members: string[] = [];
      for (const fcda of children(dse, 'FCDA')) {
        const member = this.member(fcda, ld.inst);
        // The model is not validated yet; memberProblem reads only names and CDCs, which are in place.
        const problem = memberProblem(plain as SimModel, ld as SimModel['logicalDevices'][number], member);
        if (problem !== undefined) this.skip(fcda, `${where}.${name}`, `member ${member} left out: ${problem}`);
        else {
          this.mark(at('dataSets', ln.dataSets.length, 'members', members.length), fcda);
          members.push(member);
        }
      }
      if (members.length === 0) this.skip(dse, `${where}.${name}`, 'data set left out: no member left');
      else {
        this.mark(at('dataSets', ln.dataSets.length), dse);
        ln.dataSets.push({ name, members });
      }
    }
    ln.reportControls = [];
    for (const rce of children(lne, 'ReportControl')) {
      this.mark(at('reportControls', ln.reportControls.length), rce);
      ln.reportControls.push(this.reportControl(rce, ln, where));
    }
  }

  /** An FCDA as a member: `[LD/]LN$FC$DO[$DA...]`, the LD only when it is another one. */
  private member(fcda: Element, ldInst: string): string {
    const a = (n: string): string => attr(fcda, n) ?? '';
    const ld = a('ldInst') === '' || a('ldInst') === ldInst ? '' : `${a('ldInst')}/`;
    const parts = [`${a('prefix')}${a('lnClass')}${a('lnInst')}`, a('fc'), ...a('doName').split('.')];
    if (a('daName') !== '') parts.push(...a('daName').split('.'));
    return ld + parts.join('$');
  }

  private reportControl(rce: Element, ln: PlainLn, where: string): PlainRc {
    const name = attr(rce, 'name') ?? '';
    const enabled = children(rce, 'RptEnabled')[0];
    const trg = children(rce, 'TrgOps')[0];
    const opt = children(rce, 'OptFields')[0];
    let datSet = attr(rce, 'datSet') ?? '';
    if (datSet !== '' && !(ln.dataSets ?? []).some((d) => d.name === datSet)) {
      this.skip(rce, `${where}.${name}`, `datSet ${datSet} left out: the data set is not in the model`);
      datSet = '';
    }
    const rc = SCL_DEFAULTS.ReportControl;
    return {
      name,
      buffered: flag(attr(rce, 'buffered'), rc.buffered),
      instances: enabled === undefined ? 1 : int(attr(enabled, 'max'), SCL_DEFAULTS.RptEnabled.max),
      indexed: flag(attr(rce, 'indexed'), rc.indexed),
      rptId: attr(rce, 'rptID') ?? '',
      datSet,
      confRev: int(attr(rce, 'confRev'), rc.confRev),
      bufTm: int(attr(rce, 'bufTime'), rc.bufTime),
      intgPd: int(attr(rce, 'intgPd'), rc.intgPd),
      // TrgOps is optional (tControlWithTriggerOpt): without the element no trigger is configured;
      // with it, each absent attribute takes its schema default.
      trgOps: trg === undefined ? [] : TRG_OPS.filter((t) => flag(attr(trg, t.scl), t.absent)).map((t) => t.op),
      optFlds: OPT_FIELDS.filter((o) => flag(attr(opt, o.scl), o.absent)).map((o) => o.field),
    };
  }

  private line(e: Element | undefined): number | undefined {
    return this.lineNumbers.line(e);
  }

  private mark(path: PropertyKey[], e: Element | undefined): void {
    const line = this.line(e);
    if (line !== undefined) this.lines.set(path.map(String).join('.'), line);
  }

  private skip(e: Element | undefined, field: string, message: string): void {
    const line = this.line(e);
    this.skipped.push({ file: this.file, ...(line === undefined ? {} : { line }), field, message });
  }

  private fail(line: number | undefined, field: string | undefined, message: string): never {
    return sclFail(this.file, line, field, message);
  }
}
