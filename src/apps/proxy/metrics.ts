/**
 * Prometheus metrics of the proxy, read from group snapshots when scraped: per group and master,
 * link state, ASDUs in and out by type, queue depth, drops and reconnects.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { typeName } from '../../protocols/iec104/index.js';
import type { GroupSnapshot, LinkTraffic } from './group.js';

export interface NtpMetricsSource {
  readonly state: string;
  readonly offsetMs?: number | undefined;
  readonly lastSuccess?: number | undefined;
}

/** A points tap on a group (`gridgate proxy --points`): the group's id, the source's name, its counts. */
export interface TapMetricsSource {
  readonly group: number;
  readonly source: string;
  readonly malformed: number;
}

type Labels = Record<string, string>;

function eachType(t: LinkTraffic, f: (direction: 'in' | 'out', type: string, n: number) => void): void {
  for (let id = 0; id < 256; id++) {
    if (t.asdusIn[id]! > 0) f('in', typeName(id), t.asdusIn[id]!);
    if (t.asdusOut[id]! > 0) f('out', typeName(id), t.asdusOut[id]!);
  }
}

/** A registry whose every metric is computed from `groups()` (and `ntp()`, `taps()`) at scrape time. */
export function proxyRegistry(
  groups: () => readonly GroupSnapshot[],
  ntp?: () => NtpMetricsSource | undefined,
  taps?: () => readonly TapMetricsSource[],
): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[], fill: (set: (labels: Labels, v: number) => void) => void): void => {
    registry.registerMetric(
      new Gauge({
        name,
        help,
        labelNames,
        collect() {
          this.reset();
          fill((labels, v) => this.set(labels, v));
        },
      }),
    );
  };
  const counter = (name: string, help: string, labelNames: string[], fill: (set: (labels: Labels, v: number) => void) => void): void => {
    registry.registerMetric(
      new Counter({
        name,
        help,
        labelNames,
        collect() {
          // The snapshot holds the running totals; present them as the counter's value.
          this.reset();
          fill((labels, v) => this.inc(labels, v));
        },
      }),
    );
  };
  const g = (s: GroupSnapshot): Labels => ({ group: s.name, id: String(s.id) });

  gauge('gridgate_proxy_slave_up', 'Slave link connected (1) or not (0)', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.state === 'up' ? 1 : 0);
  });
  gauge('gridgate_proxy_link_started', 'Data transfer started (1) or not (0) per link', ['group', 'id', 'link', 'peer'], (set) => {
    for (const s of groups()) {
      if (s.slave.peer !== undefined) set({ ...g(s), link: 'slave', peer: s.slave.peer }, s.slave.dataTransfer === 'started' ? 1 : 0);
      for (const m of s.masters) set({ ...g(s), link: 'master', peer: m.peer }, m.started ? 1 : 0);
    }
  });
  gauge('gridgate_proxy_masters', 'Masters connected', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.masters.length);
  });
  gauge('gridgate_proxy_queue_depth', 'ASDUs waiting to be sent on a link', ['group', 'id', 'link', 'peer'], (set) => {
    for (const s of groups()) {
      if (s.slave.peer !== undefined) set({ ...g(s), link: 'slave', peer: s.slave.peer }, s.slave.queued);
      for (const m of s.masters) set({ ...g(s), link: 'master', peer: m.peer }, m.queued + m.unacknowledged);
    }
  });
  counter(
    'gridgate_proxy_asdus_total',
    'ASDUs received (in) and sent (out) per link and type',
    ['group', 'id', 'link', 'peer', 'direction', 'type'],
    (set) => {
      for (const s of groups()) {
        if (s.slave.peer !== undefined)
          eachType(s.slave.traffic, (direction, type, n) => set({ ...g(s), link: 'slave', peer: s.slave.peer!, direction, type }, n));
        for (const m of s.masters)
          eachType(m.traffic, (direction, type, n) => set({ ...g(s), link: 'master', peer: m.peer, direction, type }, n));
      }
    },
  );
  counter('gridgate_proxy_drops_total', 'ASDUs not delivered, by reason', ['group', 'id', 'reason'], (set) => {
    for (const s of groups()) {
      set({ ...g(s), reason: 'to-master-refused' }, s.counters['dropsToMaster'] ?? 0);
      set({ ...g(s), reason: 'to-slave-refused' }, s.counters['dropsToSlave'] ?? 0);
      set({ ...g(s), reason: 'orphan-reply' }, s.router['orphanReplies'] ?? 0);
      set({ ...g(s), reason: 'malformed' }, s.router['malformed'] ?? 0);
      set({ ...g(s), reason: 'end-of-init' }, s.router['endOfInit'] ?? 0);
      set({ ...g(s), reason: 'monitor-role-command' }, s.router['refusedCommands'] ?? 0);
      // A master's ASDU that never reached the slave: undecodable (its link closed) or refused.
      set({ ...g(s), reason: 'master-asdu-header' }, s.router['asduHeader'] ?? 0);
      set({ ...g(s), reason: 'master-asdu-body' }, s.router['asduBody'] ?? 0);
      set({ ...g(s), reason: 'master-unknown-type' }, s.router['unknownType'] ?? 0);
      set({ ...g(s), reason: 'master-unknown-cause' }, s.router['unknownCause'] ?? 0);
      set({ ...g(s), reason: 'no-started-master' }, s.counters['noStartedMaster'] ?? 0);
    }
  });
  counter('gridgate_proxy_reconnects_total', 'Slave links opened', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.counters['slaveConnects'] ?? 0);
  });
  counter('gridgate_proxy_masters_refused_total', 'Master connections refused', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.counters['mastersRefused'] ?? 0);
  });
  counter('gridgate_proxy_masters_behind_closed_total', 'Master links closed for staying behind (flow control)', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.counters['mastersBehindClosed'] ?? 0);
  });
  counter('gridgate_proxy_ack_holds_total', 'Times the slave link was slowed because a master was behind', ['group', 'id'], (set) => {
    for (const s of groups()) set(g(s), s.counters['ackHolds'] ?? 0);
  });
  if (taps !== undefined) {
    counter(
      'gridgate_proxy_tap_malformed_total',
      'ASDUs from the RTU the points tap could not decode (forwarded to the masters; no record made)',
      ['group', 'id', 'source'],
      (set) => {
        const names = new Map(groups().map((s) => [s.id, s.name]));
        for (const t of taps()) set({ group: names.get(t.group) ?? '', id: String(t.group), source: t.source }, t.malformed);
      },
    );
  }
  if (ntp !== undefined) {
    gauge('gridgate_ntp_offset_seconds', 'Clock offset measured by the last NTP query', [], (set) => {
      const n = ntp();
      if (n?.offsetMs !== undefined) set({}, n.offsetMs / 1000);
    });
    gauge('gridgate_ntp_state', 'NTP update state (1 for the current state)', ['state'], (set) => {
      const n = ntp();
      if (n !== undefined) set({ state: n.state }, 1);
    });
    gauge('gridgate_ntp_last_success_timestamp_seconds', 'When NTP last answered', [], (set) => {
      const n = ntp();
      if (n?.lastSuccess !== undefined) set({}, n.lastSuccess / 1000);
    });
  }
  return registry;
}
