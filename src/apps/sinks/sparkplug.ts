/**
 * Sparkplug B for the MQTT sink: gridgate is one edge node of a Sparkplug group, each source one
 * device of it, each point one metric named by the point (`1/4001`, `LD0/XCBR1$ST$Pos`). Payloads
 * are encoded by `sparkplug-payload` (Eclipse Tahu's reference implementation, protobuf inside).
 *
 * The node's state: `bdSeq` counts its MQTT sessions (0-255) and is carried by NBIRTH and by the
 * NDEATH the broker publishes as its Will; `seq` numbers every NBIRTH, DBIRTH and DDATA (0-255,
 * NBIRTH is 0). A device is born (DBIRTH with every metric it has had, last values) before its
 * first DDATA, again when it shows a metric its birth did not list, and after a DDEATH (its link
 * went down). A new session starts from NBIRTH and every device is born again.
 */
import sparkplug from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { PointKind, PointQuality, PointRecord, StreamRecord } from '../points/record.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

const codec = sparkplug.get('spBv1.0');

/** Sparkplug B payload codec (encode, decode). */
export function sparkplugCodec(): NonNullable<typeof codec> {
  if (codec === null) throw new GridgateError(ErrorCode.STATE, 'sparkplug-payload does not know namespace spBv1.0');
  return codec;
}

/** The Sparkplug data type of each point kind. */
export const SPARKPLUG_TYPES = {
  binary: 'Boolean',
  'double-binary': 'Int32',
  analog: 'Double',
  counter: 'Int64',
  step: 'Int32',
  bitstring: 'UInt32',
  string: 'String',
} as const satisfies Record<PointKind, UMetric['type']>;

/** The `Quality` property of a metric, in the OPC quality codes Sparkplug hosts (Ignition) read. */
export const SPARKPLUG_QUALITY = { good: 192, questionable: 64, invalid: 0 } as const satisfies Record<PointQuality['validity'], number>;

/** One MQTT message to publish. */
export interface SparkplugMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
}

function metric(r: PointRecord): UMetric {
  const type = SPARKPLUG_TYPES[r.kind];
  return {
    name: r.point,
    type,
    value: type === 'Boolean' ? r.value === true || r.value === 1 : r.value,
    timestamp: r.sourceTime ?? r.receiveTime,
    properties: { Quality: { type: 'Int32', value: SPARKPLUG_QUALITY[r.quality.validity] } },
  };
}

/** The edge node: turns batches of records into the Sparkplug messages, in order. */
export class SparkplugNode {
  readonly #group: string;
  readonly #node: string;
  readonly #now: () => number;
  #bdSeq = 0;
  #seq = 0;
  #born = false;
  /** Per device (source): its metrics by name, last value; and whether its birth is current. */
  readonly #devices = new Map<string, { metrics: Map<string, UMetric>; born: boolean }>();

  constructor(group: string, node: string, now: () => number = Date.now) {
    this.#group = group;
    this.#node = node;
    this.#now = now;
  }

  /** bdSeq of the current (or next) session. */
  get bdSeq(): number {
    return this.#bdSeq;
  }

  #topic(type: string, device?: string): string {
    return `spBv1.0/${this.#group}/${type}/${this.#node}${device === undefined ? '' : `/${device}`}`;
  }

  #payload(metrics: UMetric[], seq = true): Uint8Array {
    const p: UPayload = { timestamp: this.#now(), metrics };
    if (seq) {
      p.seq = this.#seq;
      this.#seq = (this.#seq + 1) % 256;
    }
    return sparkplugCodec().encodePayload(p);
  }

  /** The NDEATH of the current session: the MQTT Will, and what `close` publishes. */
  death(): SparkplugMessage {
    return { topic: this.#topic('NDEATH'), payload: this.#payload([{ name: 'bdSeq', type: 'Int64', value: this.#bdSeq }], false) };
  }

  /** The session ended: the next messages start with a new NBIRTH under the next bdSeq. */
  sessionEnded(): void {
    if (!this.#born) return;
    this.#born = false;
    this.#bdSeq = (this.#bdSeq + 1) % 256;
  }

  /** The messages that publish a batch: births as needed, one DDATA per device and run of distinct metrics, DDEATHs. */
  messages(batch: readonly StreamRecord[]): SparkplugMessage[] {
    const out: SparkplugMessage[] = [];
    if (!this.#born) {
      this.#seq = 0;
      out.push({
        topic: this.#topic('NBIRTH'),
        payload: this.#payload([
          { name: 'bdSeq', type: 'Int64', value: this.#bdSeq },
          { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
        ]),
      });
      this.#born = true;
      for (const d of this.#devices.values()) d.born = false;
    }
    let device: string | undefined;
    let run: UMetric[] = [];
    let names = new Set<string>();
    const flush = (): void => {
      if (device !== undefined && run.length > 0) out.push({ topic: this.#topic('DDATA', device), payload: this.#payload(run) });
      run = [];
      names = new Set();
    };
    // Records a birth took in (a new metric's first value in the batch) are not sent again as data.
    const inBirth = new Uint8Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      if (inBirth[i] === 1) continue;
      const name = deviceId(r.source);
      if (name !== device) {
        flush();
        device = name;
      }
      let d = this.#devices.get(name);
      if (d === undefined) {
        d = { metrics: new Map(), born: false };
        this.#devices.set(name, d);
      }
      if (r.type === 'link') {
        flush();
        if (r.state === 'down' && d.born) {
          out.push({ topic: this.#topic('DDEATH', name), payload: this.#payload([]) });
          d.born = false;
        }
        continue;
      }
      const m = metric(r);
      if (!d.born || !d.metrics.has(m.name!)) {
        // One birth lists every metric the device has had and every new one up to its next link record.
        flush();
        d.metrics.set(m.name!, m);
        for (let j = i + 1; j < batch.length; j++) {
          const q = batch[j]!;
          if (deviceId(q.source) !== name) continue;
          if (q.type === 'link') break;
          if (!d.metrics.has(q.point)) {
            d.metrics.set(q.point, metric(q));
            inBirth[j] = 1;
          }
        }
        out.push({ topic: this.#topic('DBIRTH', name), payload: this.#payload([...d.metrics.values()]) });
        d.born = true;
        continue;
      }
      d.metrics.set(m.name!, m);
      if (names.has(m.name!)) flush();
      names.add(m.name!);
      run.push(m);
    }
    flush();
    return out;
  }
}

/** A Sparkplug id (group, node or device): `/`, `+` and `#` are not allowed in it. */
export function deviceId(s: string): string {
  return s.replace(/[/+#]/g, '_');
}
