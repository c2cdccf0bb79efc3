/**
 * Several DNP3 associations on one connection (a multidrop serial line, or a TCP connection to a
 * terminal server or gateway in front of one), sans-I/O. One link framer reads the shared byte
 * stream; each valid frame goes to the station it belongs to by address (IEEE 1815 clause 9: every
 * frame names its destination and source); frames for no known station are counted and dropped.
 * What the stations send is interleaved frame by frame, in the order they produced it.
 *
 * A master routes by the frame's source (one session per outstation, all addressed to this
 * master); an outstation simulator routes by the destination (one session per outstation address
 * it answers as, all talking to one master).
 */
import { Counters } from '../../../core/counters.js';
import { Queue } from '../../../core/queue.js';
import { fail } from '../../../core/result.js';
import { LinkFramer, type LinkFrame } from '../link/frame.js';
import { framerDropCounts, type ChannelDrop, type ChannelDropKind } from './channel.js';

const LAYER = 'dnp3.channel';

/** What the mux needs of a station's session: frames in, bytes and events out, its timers. */
export interface LinkStation<E> {
  receiveFrame(f: LinkFrame, now: number): void;
  pollEvent(): E | undefined;
  pollTransmit(): Uint8Array | undefined;
  nextTimeout(): number | undefined;
  handleTimeout(now: number): void;
  readonly isClosed: boolean;
  /** Its peer stopped answering link keep-alives (the station itself stays open). */
  readonly linkDead?: boolean;
}

export interface LinkMuxOptions {
  /**
   * `source`: frames are routed by their source and must be addressed to `address` (a master,
   * `address` its own); `destination`: routed by their destination and must come from `address`
   * (an outstation simulator answering as several outstations to the master at `address`).
   */
  readonly routeBy: 'source' | 'destination';
  readonly address: number;
}

export type LinkMuxEvent<E> =
  /** An event of the station at `address`. */
  | { readonly type: 'station'; readonly address: number; readonly event: E }
  /** The shared stream lost octets or a frame (bad CRC, garbage, a frame for no known station). */
  | { readonly type: 'dropped'; readonly drop: ChannelDrop };

/** Frames routed and dropped by the mux itself (the stations count their own). */
export type LinkMuxCounter = 'framesIn' | 'wrongAddress';

export class Dnp3LinkMux<E, S extends LinkStation<E> = LinkStation<E>> {
  readonly counters = new Counters<LinkMuxCounter>();
  readonly #o: LinkMuxOptions;
  readonly #framer = new LinkFramer();
  readonly #stations = new Map<number, S>();
  /** The stations as [address, station], in the order added (kept for the hot path: no allocation per frame). */
  #list: (readonly [number, S])[] = [];
  readonly #events = new Queue<LinkMuxEvent<E>>();
  /** Index in #list of the station whose events and transmissions are collected first (round robin). */
  #first = 0;
  #closed = false;

  constructor(o: LinkMuxOptions) {
    this.#o = o;
  }

  /** Adds (or replaces) the station at `address`. */
  add(address: number, station: S): void {
    this.#stations.set(address, station);
    this.#list = [...this.#stations];
  }

  /** Forgets the station at `address`; its frames are dropped as `wrongAddress` from now on. */
  remove(address: number): void {
    this.#stations.delete(address);
    this.#list = [...this.#stations];
  }

  station(address: number): S | undefined {
    return this.#stations.get(address);
  }

  get addresses(): readonly number[] {
    return [...this.#stations.keys()];
  }

  /**
   * Closed by {@link close}, or once every station is closed or has a dead link (nobody on the
   * line answers): the connection should be closed and opened again.
   */
  get isClosed(): boolean {
    if (this.#closed) return true;
    if (this.#stations.size === 0) return false;
    for (const s of this.#stations.values()) if (!s.isClosed && s.linkDead !== true) return false;
    return true;
  }

  close(): void {
    this.#closed = true;
  }

  /** Frames the mux dropped, by kind: the framer's rejections and frames for no known station. */
  dropCounts(): Record<ChannelDropKind, number> {
    return { ...framerDropCounts(this.#framer), wrongAddress: this.counters.get('wrongAddress') } as Record<ChannelDropKind, number>;
  }

  receive(bytes: Uint8Array, now: number): void {
    if (this.#closed) return;
    this.#framer.push(
      bytes,
      (f) => this.#route(f, now),
      (failure) => this.#events.push({ type: 'dropped', drop: failure }),
    );
    this.#touch(now);
  }

  pollEvent(): LinkMuxEvent<E> | undefined {
    const own = this.#events.shift();
    if (own !== undefined) return own;
    const n = this.#list.length;
    for (let i = 0; i < n; i++) {
      const [address, s] = this.#list[(this.#first + i) % n]!;
      const event = s.pollEvent();
      if (event !== undefined) return { type: 'station', address, event };
    }
    return undefined;
  }

  pollTransmit(): Uint8Array | undefined {
    const n = this.#list.length;
    for (let i = 0; i < n; i++) {
      const b = this.#list[(this.#first + i) % n]![1].pollTransmit();
      if (b !== undefined) return b;
    }
    return undefined;
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const s of this.#stations.values()) {
      const t = s.nextTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** Gives every station the time: each acts on its own deadlines, and one may start a request another's end made possible. */
  handleTimeout(now: number): void {
    this.#touch(now);
  }

  /** Every station in turn, starting one further each time, so no station always goes first. */
  #touch(now: number): void {
    const n = this.#list.length;
    for (let i = 0; i < n; i++) this.#list[(this.#first + i) % n]![1].handleTimeout(now);
    this.#first = n === 0 ? 0 : (this.#first + 1) % n;
  }

  #route(f: LinkFrame, now: number): void {
    this.counters.inc('framesIn');
    const [key, fixed, fixedName] =
      this.#o.routeBy === 'source' ? [f.source, f.destination, 'destination'] : [f.destination, f.source, 'source'];
    const station = fixed === this.#o.address ? this.#stations.get(key) : undefined;
    if (station === undefined) {
      this.counters.inc('wrongAddress');
      const why =
        fixed !== this.#o.address
          ? `${fixedName} is not ${this.#o.address}`
          : `no session for ${this.#o.routeBy} ${key} (have ${this.addresses.join(', ') || 'none'})`;
      this.#events.push({
        type: 'dropped',
        drop: fail(LAYER, 0, `frame from ${f.source} to ${f.destination}: ${why}`, 'wrongAddress') as ChannelDrop,
      });
      return;
    }
    station.receiveFrame(f, now);
  }
}
