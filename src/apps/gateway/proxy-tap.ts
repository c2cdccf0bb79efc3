/**
 * The proxy as a source: a tap on a running proxy group's slave link turns every ASDU the RTU sends
 * into records, with the IEC 104 source's mapping (so the same value under the same source name has
 * the same record id whichever path brought it), and the RTU's data transfer into link records.
 * A group nobody taps does no tap work at all; for a tapped one, the proxy's turn only queues the
 * ASDU: decoding and mapping run in the next turn of the event loop, after the forwarding.
 */
import { silentLogger, type Logger } from '../../core/log.js';
import { WarnThrottle } from '../../core/throttle.js';
import { decode104 } from '../iec104/common.js';
import { iec104Records } from '../points/iec104.js';
import type { PointRecord } from '../points/record.js';
import type { SlaveTapEvent } from '../proxy/group.js';
import type { Proxy } from '../proxy/proxy.js';
import type { GatewayConfig, SourceConfig, TapGroup } from './config.js';
import { BaseSource, type Emit } from './source-base.js';

/** What the proxy's `/metrics` reports of a tap. */
export interface TapStatus {
  readonly source: string;
  /** The proxy group's id. */
  readonly group: number;
  /** ASDUs from the group's RTU that did not decode: the proxy forwarded them, no record was made. */
  readonly malformed: number;
}

type TapConfig = Extract<SourceConfig, { type: 'iec104-proxy-tap' }>;

/**
 * A proxy group's RTU. Values flow only while the proxy has the RTU's data transfer started, that
 * is while one of its masters has started its own: the tap never sends anything to the RTU, so the
 * time between is a gap, with link records around it.
 */
export class ProxyTapSource extends BaseSource {
  readonly #c: TapConfig;
  readonly #proxy: Proxy;
  #detach: (() => void) | undefined;
  /** The id of the group tapped, once attached. */
  #group: number | undefined;
  #asdus: Uint8Array[] = [];
  #times: number[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  readonly #warn = new WarnThrottle(60_000);
  /** ASDUs that did not decode (the proxy forwarded them; no record was made). */
  malformed = 0;

  constructor(c: TapConfig, proxy: Proxy, emit: Emit, log: Logger = silentLogger) {
    super(c.name, 'iec104', emit, log);
    this.#c = c;
    this.#proxy = proxy;
  }

  start(): void {
    if (this.#detach !== undefined) return;
    const g = this.#proxy.config.groups.find((x) => x.id === this.#c.group || x.name === this.#c.group);
    if (g === undefined) {
      this.link('down', `the proxy has no group ${JSON.stringify(this.#c.group)}`);
      return;
    }
    this.#group = g.id;
    this.#detach = this.#proxy.tap(g.id, this.#onTap);
  }

  /** The group tapped and the ASDUs of its RTU that did not decode (the proxy's `/metrics`); undefined before a group is found. */
  tapStatus(): TapStatus | undefined {
    return this.#group === undefined ? undefined : { source: this.name, group: this.#group, malformed: this.malformed };
  }

  async stop(): Promise<void> {
    this.#detach?.();
    this.#detach = undefined;
    this.#flush();
    this.link('down', 'stopped');
    await this.drain();
  }

  readonly #onTap = (e: SlaveTapEvent): void => {
    if (e.kind === 'asdu') {
      this.#asdus.push(e.asdu);
      this.#times.push(Date.now());
      this.#scheduled ??= setImmediate(this.#flush);
      return;
    }
    // The values before a change of state are recorded before it.
    this.#flush();
    if (e.kind === 'up') this.link('up', `data transfer from ${e.peer}`);
    else this.link('down', e.reason);
  };

  readonly #flush = (): void => {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const asdus = this.#asdus;
    const times = this.#times;
    if (asdus.length === 0) return;
    this.#asdus = [];
    this.#times = [];
    const records: PointRecord[] = [];
    for (let i = 0; i < asdus.length; i++) {
      const d = decode104(asdus[i]!);
      if (d.ok) {
        for (const r of iec104Records(this.name, d.asdu, times[i]!)) records.push(r);
        continue;
      }
      this.malformed++;
      const now = times[i]!;
      for (const s of this.#warn.due(now)) this.log.warn({ count: s.count, intervalMs: s.intervalMs }, 'more malformed ASDUs');
      if (this.#warn.admit('malformed', now)) this.log.warn({ err: d.error.message }, 'malformed ASDU from the RTU: no record made');
    }
    this.emit(records);
  };
}

/** Letters, digits, - and _ of a group name: what a source name may hold. */
const sourceNameOf = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_');

/**
 * The file as `gridgate proxy --points` runs it: when it names no `iec104-proxy-tap` source, every
 * group of the proxy is tapped, as a source named after the group (with `-<id>` where that name is
 * empty, shared, or already a source's).
 */
export function withProxyTaps(c: GatewayConfig, groups: readonly TapGroup[]): GatewayConfig {
  if (c.sources.some((s) => s.type === 'iec104-proxy-tap')) return c;
  const taken = new Set(c.sources.map((s) => s.name));
  const names = groups.map((g) => sourceNameOf(g.name));
  const taps = groups.map((g, i) => {
    const n = names[i]!;
    const unique = n !== '' && !taken.has(n) && names.indexOf(n) === names.lastIndexOf(n);
    return { type: 'iec104-proxy-tap' as const, name: unique ? n : `${n || 'group'}-${g.id}`, group: g.id };
  });
  return { ...c, sources: [...c.sources, ...taps] };
}
