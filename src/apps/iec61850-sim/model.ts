/**
 * The simulated IED at run time and its MMS mapping (IEC 61850-8-1 clauses 8 and 9): one MMS
 * domain per logical device, named IED name + LD instance; one named variable per logical node,
 * a structure of functional constraints (`GGIO1$ST`, `GGIO1$MX`, ... in libiec61850's order), each
 * a structure of data objects and their attributes (`GGIO1$ST$Ind1$stVal`); report control blocks
 * under `LLN0$RP$<name>` and `LLN0$BR$<name>`; data sets as named variable lists `LN$<name>`.
 */
import type { ObjectName } from '../../protocols/mms/access.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { MemberChange, ReportControlConfig } from '../../protocols/iec61850/rcb-types.js';
import type { MmsNode } from '../mms/namespace.js';
import type { MmsServer } from '../mms/server.js';
import {
  CDCS,
  CTL_MODEL_STATUS_ONLY,
  DEFAULT_VALUE,
  plainQuality,
  sameQuality,
  FC_ORDER,
  qualityData,
  timestampData,
  valueData,
  type AttributeSource,
  type ClockState,
  type SimQuality,
  type CdcAttribute,
  type SimValue,
  type ValueKind,
  type Validity,
} from './cdc.js';
import { instanceNames, type RcbFaultSpec, type SimDataObject, type SimModel } from './config.js';

/**
 * A change to apply to a data object: a new value, a new validity or whole quality, an update of
 * the same value, or a new state of its clock (which stamps its next change).
 */
export interface DataObjectChange {
  readonly value?: SimValue;
  readonly validity?: Validity;
  readonly quality?: SimQuality;
  readonly clock?: ClockState;
}

/** One data object with its state: a simulated value, a validity and the time of the last change. */
export class LiveDataObject {
  /** `LDinst/LN.DO`, the object reference users give (7-2 clause 5.5.3 with the LD instance). */
  readonly ref: string;
  readonly domain: string;
  readonly ln: string;
  readonly config: SimDataObject;
  readonly kind: ValueKind;
  #value: SimValue;
  #quality: SimQuality;
  #clock: ClockState = 'synchronized';
  #t: number;
  /** The clock state `#t` was stamped with. */
  #tClock: ClockState = 'synchronized';

  constructor(domain: string, inst: string, ln: string, config: SimDataObject, now: number) {
    this.ref = `${inst}/${ln}.${config.name}`;
    this.domain = domain;
    this.ln = ln;
    this.config = config;
    this.kind = CDCS[config.cdc].kind;
    const v = (config.value as SimValue | undefined) ?? DEFAULT_VALUE[this.kind];
    this.#value = this.kind === 'FLOAT32' ? Math.fround(Number(v)) : v;
    this.#quality = plainQuality(config.quality);
    this.#t = now;
  }

  get value(): SimValue {
    return this.#value;
  }

  get validity(): Validity {
    return this.#quality.validity;
  }

  /** The attributes of this data object under `fc`, in CDC order. */
  attributes(fc: string): CdcAttribute[] {
    return CDCS[this.config.cdc].attributes.filter((a) => a.fc === fc);
  }

  /** The MMS reference of an attribute: `LD/LN$FC$DO$path`. */
  mmsRef(a: CdcAttribute): string {
    return `${this.domain}/${this.ln}$${a.fc}$${this.config.name}$${a.path}`;
  }

  /**
   * Applies a change at `now` and returns the notifications it raises (7-3 trigger options): the
   * value attribute's `data-change` when the value differs, else its `data-update` if it has that
   * trigger; `quality-change` on q when the validity differs. The time stamp moves when anything is notified.
   */
  apply(change: DataObjectChange, now: number): MemberChange[] {
    const out: MemberChange[] = [];
    const attrs: readonly CdcAttribute[] = CDCS[this.config.cdc].attributes;
    const valueAttr = attrs.find((a) => a.source === 'value');
    if (change.value !== undefined && valueAttr !== undefined) {
      // A FLOAT32 is what the client will see: compare and keep it at single precision.
      const v = this.kind === 'FLOAT32' ? Math.fround(Number(change.value)) : change.value;
      const trg: readonly string[] = valueAttr.trg ?? [];
      if (v !== this.#value && trg.includes('data-change')) out.push({ ref: this.mmsRef(valueAttr), reason: 'data-change' });
      else if (v === this.#value && trg.includes('data-update')) out.push({ ref: this.mmsRef(valueAttr), reason: 'data-update' });
      this.#value = v;
    }
    const q = attrs.find((a) => a.source === 'q');
    const quality = change.quality ?? (change.validity === undefined ? undefined : plainQuality(change.validity));
    if (quality !== undefined && q !== undefined && !sameQuality(quality, this.#quality)) {
      this.#quality = quality;
      out.push({ ref: this.mmsRef(q), reason: 'quality-change' });
    }
    if (change.clock !== undefined) this.#clock = change.clock;
    // An IED whose clock was never set stamps its changes at 1970-01-01 (the seed's example).
    if (out.length > 0) {
      this.#t = this.#clock === '1970' ? 0 : now;
      this.#tClock = this.#clock;
    }
    return out;
  }

  /** The current MMS value of an attribute. */
  read(source: AttributeSource): MmsData {
    switch (source) {
      case 'value':
        return valueData(this.kind, this.#value);
      case 'q':
        return qualityData(this.#quality);
      case 't':
        return timestampData(this.#t, this.#tClock === '1970' ? 'synchronized' : this.#tClock);
      case 'ctlModel':
        return { type: 'integer', value: CTL_MODEL_STATUS_ONLY };
      case 'vendor':
      case 'swRev':
      case 'd':
      case 'configRev':
        return { type: 'visible-string', value: this.config[source] ?? '' };
    }
  }

  /** The data object's node under `fc`: its attributes as a tree of `$`-paths (`mag` → `f`). */
  node(fc: string): MmsNode | undefined {
    const attrs = this.attributes(fc);
    if (attrs.length === 0) return undefined;
    interface Tree {
      readonly name: string;
      readonly children: Tree[];
      source?: AttributeSource;
    }
    const root: Tree = { name: this.config.name, children: [] };
    for (const a of attrs) {
      let at = root;
      for (const part of a.path.split('$')) {
        let next = at.children.find((c) => c.name === part);
        if (next === undefined) at.children.push((next = { name: part, children: [] }));
        at = next;
      }
      at.source = a.source;
    }
    const toNode = (t: Tree): MmsNode => {
      const source = t.source;
      return source === undefined ? { name: t.name, children: t.children.map(toNode) } : { name: t.name, read: () => this.read(source) };
    };
    return toNode(root);
  }
}

/** One report control block instance of the model. */
export interface ModelReportControl {
  readonly domain: string;
  readonly config: ReportControlConfig;
  /** Faults to rehearse on a schedule. */
  readonly simulate: readonly RcbFaultSpec[];
}

/** The IED: its data objects, data sets and report control blocks, with its MMS mapping. */
export class IedRuntime {
  readonly model: SimModel;
  readonly dataObjects: LiveDataObject[] = [];
  readonly reportControls: ModelReportControl[] = [];
  readonly #byRef = new Map<string, LiveDataObject>();

  constructor(model: SimModel, now: number) {
    this.model = model;
    for (const ld of model.logicalDevices) {
      const domain = `${model.ied}${ld.inst}`;
      for (const ln of ld.logicalNodes) {
        for (const d of ln.dataObjects) {
          const live = new LiveDataObject(domain, ld.inst, ln.name, d, now);
          this.dataObjects.push(live);
          this.#byRef.set(live.ref, live);
          this.#byRef.set(`${domain}/${ln.name}.${d.name}`, live);
        }
        for (const rc of ln.reportControls) {
          const fc = rc.buffered ? 'BR' : 'RP';
          for (const name of instanceNames(rc)) {
            this.reportControls.push({
              domain,
              config: {
                ref: `${domain}/${ln.name}$${fc}$${name}`,
                kind: rc.buffered ? 'BRCB' : 'URCB',
                rptId: rc.rptId,
                datSet: rc.datSet === '' ? '' : `${domain}/${ln.name}$${rc.datSet}`,
                confRev: rc.confRev,
                optFlds: rc.optFlds,
                trgOps: rc.trgOps,
                bufTm: rc.bufTm,
                intgPd: rc.intgPd,
                bufferEntries: rc.bufferEntries,
              },
              simulate: rc.simulate,
            });
          }
        }
      }
    }
  }

  /** The data object `LDinst/LN.DO` (or with the full LD name), if any. */
  dataObject(ref: string): LiveDataObject | undefined {
    return this.#byRef.get(ref);
  }

  /** The MMS object name of a data-set member written `[LD/]LN$FC$DO[$DA]` in logical device `inst`. */
  memberName(inst: string, member: string): Extract<ObjectName, { scope: 'domain' }> {
    const slash = member.indexOf('/');
    const ld = slash < 0 ? inst : member.slice(0, slash);
    const domain = this.model.logicalDevices.some((d) => d.inst === ld) ? `${this.model.ied}${ld}` : ld;
    return { scope: 'domain', domainId: domain, itemId: member.slice(slash + 1) };
  }

  /**
   * Adds every domain, logical node and data set to `server`; `rcbNode` makes the node of a
   * report control block (the application wires it to the report engine).
   */
  install(server: MmsServer, rcbNode: (rc: ModelReportControl, name: string) => MmsNode): void {
    for (const ld of this.model.logicalDevices) {
      const domain = `${this.model.ied}${ld.inst}`;
      const scope = server.domain(domain);
      for (const ln of ld.logicalNodes) {
        const objects = this.dataObjects.filter((d) => d.domain === domain && d.ln === ln.name);
        const fcs: MmsNode[] = [];
        for (const fc of FC_ORDER) {
          let children: MmsNode[];
          if (fc === 'RP' || fc === 'BR') {
            const prefix = `${domain}/${ln.name}$${fc}$`;
            children = this.reportControls
              .filter((r) => r.config.ref.startsWith(prefix))
              .map((r) => rcbNode(r, r.config.ref.slice(prefix.length)));
          } else children = objects.flatMap((d) => d.node(fc) ?? []);
          if (children.length > 0) fcs.push({ name: fc, children });
        }
        scope.addVariable({ name: ln.name, children: fcs });
        for (const ds of ln.dataSets)
          scope.addList(
            `${ln.name}$${ds.name}`,
            ds.members.map((m) => this.memberName(ld.inst, m)),
          );
      }
    }
  }
}
