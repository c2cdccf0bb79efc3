/**
 * The IEC 104 RTU simulator: one controlled station per configured RTU, each with a point
 * database that answers interrogations, reads and commands, and produces spontaneous changes
 * and avalanches.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { buildObject, Cot, maxObjectsPerAsdu, numericValue, type AsduInit, type TypeName } from '../../protocols/iec104/index.js';
import { Iec104Slave, type SlaveRequest } from '../iec104/slave.js';
import type { TlsFiles } from '../../transport/net.js';
import type { PointDef, RtuConfig } from './config.js';

/** Interrogation replies carry no time tag (101 clause 7.4.5): the untagged type of each point. */
const UNTAGGED: Partial<Record<TypeName, TypeName>> = {
  M_SP_TA_1: 'M_SP_NA_1',
  M_SP_TB_1: 'M_SP_NA_1',
  M_DP_TA_1: 'M_DP_NA_1',
  M_DP_TB_1: 'M_DP_NA_1',
  M_ST_TA_1: 'M_ST_NA_1',
  M_ST_TB_1: 'M_ST_NA_1',
  M_BO_TA_1: 'M_BO_NA_1',
  M_BO_TB_1: 'M_BO_NA_1',
  M_ME_TA_1: 'M_ME_NA_1',
  M_ME_TD_1: 'M_ME_NA_1',
  M_ME_TB_1: 'M_ME_NB_1',
  M_ME_TE_1: 'M_ME_NB_1',
  M_ME_TC_1: 'M_ME_NC_1',
  M_ME_TF_1: 'M_ME_NC_1',
};

const COUNTERS: ReadonlySet<TypeName> = new Set(['M_IT_NA_1', 'M_IT_TA_1', 'M_IT_TB_1']);
const PROTECTION: ReadonlySet<TypeName> = new Set(['M_EP_TA_1', 'M_EP_TB_1', 'M_EP_TC_1', 'M_EP_TD_1', 'M_EP_TE_1', 'M_EP_TF_1']);

/** Command types grouped by what they command, so C_SC_TA_1 reaches a C_SC_NA_1 point and back. */
const FAMILY: Partial<Record<TypeName, string>> = {
  C_SC_NA_1: 'SC',
  C_SC_TA_1: 'SC',
  C_DC_NA_1: 'DC',
  C_DC_TA_1: 'DC',
  C_RC_NA_1: 'RC',
  C_RC_TA_1: 'RC',
  C_SE_NA_1: 'SE_N',
  C_SE_TA_1: 'SE_N',
  C_SE_NB_1: 'SE_S',
  C_SE_TB_1: 'SE_S',
  C_SE_NC_1: 'SE_F',
  C_SE_TC_1: 'SE_F',
  C_BO_NA_1: 'BO',
  C_BO_TA_1: 'BO',
};

interface Point {
  readonly def: PointDef;
  value: number;
}

/** Any information object, for code that handles every type alike. */
type AnyObject = { readonly ioa: number };

/** The fields a command object may carry (SCO/DCO/RCO/QOS and the set-point values). */
type CommandObject = AnyObject & { readonly value?: number | boolean; readonly select?: boolean };

export interface SimulatorOptions {
  readonly logger?: Logger;
  readonly tls?: TlsFiles;
  /** Source of randomness for spontaneous changes (tests pass a seeded one). */
  readonly random?: () => number;
}

/** One simulated RTU. */
export class SimulatedRtu {
  readonly config: RtuConfig;
  readonly #log: Logger;
  readonly #opts: SimulatorOptions;
  readonly #monitor = new Map<number, Point>();
  readonly #commands = new Map<number, PointDef>();
  readonly #selected = new Set<number>();
  readonly #random: () => number;
  #slave: Iec104Slave | undefined;
  #timers: NodeJS.Timeout[] = [];
  #budget = 0;

  constructor(config: RtuConfig, opts: SimulatorOptions = {}) {
    this.config = config;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ rtu: config.name, ca: config.ca });
    this.#random = opts.random ?? Math.random;
    for (const p of config.points) {
      if (p.type.startsWith('M_')) this.#monitor.set(p.ioa, { def: p, value: p.value });
      else this.#commands.set(p.ioa, p);
    }
  }

  get slave(): Iec104Slave {
    if (this.#slave === undefined) throw new GridgateError(ErrorCode.STATE, `${this.config.name} is not started`);
    return this.#slave;
  }

  /** Current value of a monitor point. */
  value(ioa: number): number | undefined {
    return this.#monitor.get(ioa)?.value;
  }

  async start(): Promise<void> {
    const c = this.config;
    this.#slave = await Iec104Slave.listen({
      host: c.host,
      port: c.port,
      link: c.link,
      allow: c.allow,
      commonAddresses: [c.ca],
      onRequest: (r) => this.#onRequest(r),
      ...(this.#opts.tls === undefined ? {} : { tls: this.#opts.tls }),
      logger: this.#log,
    });
    if (c.rate > 0) this.#timers.push(setInterval(() => this.#tick(0.1), 100));
    if (c.avalancheEvery > 0) this.#timers.push(setInterval(() => this.avalanche(), c.avalancheEvery * 1000));
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#slave?.close();
  }

  /** Sends every monitor point at once (COT spont); returns the number of ASDUs. */
  avalanche(): number {
    const asdus = this.#pack([...this.#monitor.values()], (p) => p.def.type, Cot.SPONT);
    for (const a of asdus) this.slave.broadcast(a);
    this.#log.info({ asdus: asdus.length, points: this.#monitor.size }, 'avalanche sent');
    return asdus.length;
  }

  /** Sets a monitor point and sends the change with the given cause (spont by default). */
  set(ioa: number, value: number, cot: number = Cot.SPONT): boolean {
    const p = this.#monitor.get(ioa);
    if (p === undefined) return false;
    const object = buildObject(p.def.type, ioa, value, new Date());
    // Keep what the element can carry (clamped, rounded), so reads and interrogations agree.
    p.value = numericValue(object);
    this.slave.broadcast({ type: p.def.type, cot, ca: this.config.ca, objects: [object] } as AsduInit);
    return true;
  }

  /** ASDUs answering an interrogation of `group` (0 = station) with cause `cot`. */
  interrogationReplies(group: number, cot: number): AsduInit[] {
    const points = [...this.#monitor.values()].filter(
      (p) => !COUNTERS.has(p.def.type) && !PROTECTION.has(p.def.type) && (group === 0 || p.def.group === group),
    );
    return this.#pack(points, (p) => UNTAGGED[p.def.type] ?? p.def.type, cot);
  }

  #counterReplies(cot: number): AsduInit[] {
    return this.#pack(
      [...this.#monitor.values()].filter((p) => COUNTERS.has(p.def.type)),
      (p) => p.def.type,
      cot,
    );
  }

  /** Packs points into as few ASDUs as fit, one type per ASDU, in point order. */
  #pack(points: readonly Point[], typeOf: (p: Point) => TypeName, cot: number): AsduInit[] {
    const now = new Date();
    const byType = new Map<TypeName, AnyObject[]>();
    for (const p of points) {
      const t = typeOf(p);
      let list = byType.get(t);
      if (list === undefined) byType.set(t, (list = []));
      list.push(buildObject(t, p.def.ioa, p.value, now) as AnyObject);
    }
    const out: AsduInit[] = [];
    for (const [type, objects] of byType) {
      const per = maxObjectsPerAsdu(type);
      for (let i = 0; i < objects.length; i += per) {
        out.push({ type, cot, ca: this.config.ca, objects: objects.slice(i, i + per) } as AsduInit);
      }
    }
    return out;
  }

  #tick(seconds: number): void {
    if (this.#monitor.size === 0) return;
    this.#budget += this.config.rate * seconds;
    const points = [...this.#monitor.values()];
    while (this.#budget >= 1) {
      this.#budget -= 1;
      const p = points[Math.floor(this.#random() * points.length)]!;
      this.set(p.def.ioa, this.#nextValue(p));
    }
  }

  /** A plausible next value for a point: toggles for states, a walk for measurements, +1 for counters. */
  #nextValue(p: Point): number {
    const t = p.def.type;
    const r = this.#random();
    if (t.startsWith('M_SP')) return p.value === 0 ? 1 : 0;
    if (t.startsWith('M_DP') || PROTECTION.has(t)) return p.value === 2 ? 1 : 2;
    if (t.startsWith('M_ST')) return Math.max(-64, Math.min(63, p.value + (r < 0.5 ? -1 : 1)));
    if (t.startsWith('M_BO') || t === 'M_PS_NA_1') return Math.floor(r * 0xffff);
    if (COUNTERS.has(t)) return p.value + 1;
    if (t === 'M_ME_NA_1' || t === 'M_ME_TA_1' || t === 'M_ME_TD_1' || t === 'M_ME_ND_1') return Math.round((r * 2 - 1) * 32767) / 32768;
    return Math.round((p.value + (r - 0.5) * 10) * 100) / 100;
  }

  #onRequest(req: SlaveRequest): void {
    const a = req.asdu;
    switch (a.type) {
      case 'C_IC_NA_1': {
        const qoi = a.objects[0]?.value ?? 0;
        if (qoi < Cot.INROGEN || qoi > Cot.INRO16 || a.cot !== Cot.ACT) return req.confirm(a.cot === Cot.DEACT);
        req.confirm();
        for (const r of this.interrogationReplies(qoi - Cot.INROGEN, qoi)) req.reply(r);
        req.terminate();
        return;
      }
      case 'C_CI_NA_1': {
        const rqt = a.objects[0]?.value ?? 0;
        if (rqt < 1 || rqt > 5 || a.cot !== Cot.ACT) return req.confirm(false);
        req.confirm();
        for (const r of this.#counterReplies(rqt === 5 ? Cot.REQCOGEN : Cot.REQCOGEN + rqt)) req.reply(r);
        req.terminate();
        return;
      }
      case 'C_RD_NA_1': {
        const ioa = a.objects[0]?.ioa ?? 0;
        const p = this.#monitor.get(ioa);
        if (p === undefined) return req.reject(Cot.UNKNOWN_IOA);
        req.reply({
          type: p.def.type,
          cot: Cot.REQ,
          ca: this.config.ca,
          objects: [buildObject(p.def.type, ioa, p.value, new Date())],
        } as AsduInit);
        return;
      }
      case 'C_CS_NA_1':
      case 'C_TS_NA_1':
      case 'C_TS_TA_1':
      case 'C_RP_NA_1':
      case 'C_CD_NA_1':
      case 'P_ME_NA_1':
      case 'P_ME_NB_1':
      case 'P_ME_NC_1':
      case 'P_AC_NA_1':
        req.confirm();
        return;
      default:
        this.#onCommand(req);
    }
  }

  #onCommand(req: SlaveRequest): void {
    const a = req.asdu;
    const family = FAMILY[a.type];
    const o = a.objects[0] as CommandObject | undefined;
    if (family === undefined || o === undefined) return req.reject(Cot.UNKNOWN_TYPE);
    const cmd = this.#commands.get(o.ioa);
    if (cmd === undefined || FAMILY[cmd.type] !== family) return req.reject(Cot.UNKNOWN_IOA);
    if (a.cot === Cot.DEACT) {
      this.#selected.delete(o.ioa);
      return req.confirm();
    }
    if (o.select === true) {
      this.#selected.add(o.ioa);
      this.#log.info({ ioa: o.ioa, type: a.type }, 'command selected');
      return req.confirm();
    }
    this.#selected.delete(o.ioa);
    req.confirm();
    const v = typeof o.value === 'boolean' ? (o.value ? 1 : 0) : (o.value ?? 0);
    if (cmd.feedback !== undefined) {
      const fb = this.#monitor.get(cmd.feedback);
      // A regulating step command moves the step position by one: RCS 1 lower, 2 higher.
      const next = family === 'RC' ? (fb?.value ?? 0) + (v === 2 ? 1 : v === 1 ? -1 : 0) : v;
      // Return information caused by a remote command (COT 11) goes out before ACT_TERM.
      this.set(cmd.feedback, next, Cot.RETREM);
    }
    this.#log.info({ ioa: o.ioa, type: a.type, value: v }, 'command executed');
    req.terminate();
  }
}

/** Every configured RTU, started and stopped together. */
export class RtuSimulator {
  readonly rtus: readonly SimulatedRtu[];

  constructor(configs: readonly RtuConfig[], opts: SimulatorOptions = {}) {
    this.rtus = configs.map((c) => new SimulatedRtu(c, opts));
  }

  async start(): Promise<void> {
    try {
      for (const r of this.rtus) await r.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.rtus.map((r) => r.stop()));
  }

  /** Avalanche from every RTU at once; returns the number of ASDUs sent. */
  avalanche(): number {
    return this.rtus.reduce((n, r) => n + r.avalanche(), 0);
  }
}
