/** The gateway's Prometheus metrics, read from source and pipeline snapshots at each scrape. */
import { Counter, Gauge, Registry, type LabelValues } from 'prom-client';
import type { SinkStatus } from '../sinks/pipeline.js';
import type { SourceStatus } from './sources.js';

/** What the registry reads at each scrape. */
export interface GatewaySnapshot {
  readonly sources: readonly SourceStatus[];
  readonly sinks: readonly SinkStatus[];
  readonly journalRecords: number;
  readonly accepted: number;
  readonly pending: number;
}

type Labels = LabelValues<string>;

/** A registry whose metrics are filled from `snapshot()` when scraped. */
export function gatewayRegistry(snapshot: () => GatewaySnapshot): Registry {
  const registry = new Registry();
  const metric = (
    Kind: typeof Gauge | typeof Counter,
    name: string,
    help: string,
    labelNames: string[],
    fill: (s: GatewaySnapshot, set: (labels: Labels, v: number) => void) => void,
  ): void => {
    registry.registerMetric(
      new Kind({
        name,
        help,
        labelNames,
        collect(this: Gauge | Counter) {
          // Snapshots hold running totals: present them as the value.
          this.reset();
          const s = snapshot();
          fill(s, (labels, v) => (this instanceof Gauge ? this.set(labels, v) : this.inc(labels, v)));
        },
      }),
    );
  };
  const src = (s: SourceStatus): Labels => ({ source: s.name, protocol: s.protocol });
  const sink = (s: SinkStatus): Labels => ({ sink: s.name });
  metric(Gauge, 'gridgate_source_up', 'Source link up (1) or not (0)', ['source', 'protocol'], (g, set) => {
    for (const s of g.sources) set(src(s), s.up ? 1 : 0);
  });
  metric(
    Counter,
    'gridgate_source_records_total',
    'Records a source produced (rate() gives records/s)',
    ['source', 'protocol'],
    (g, set) => {
      for (const s of g.sources) set(src(s), s.records);
    },
  );
  metric(Counter, 'gridgate_source_link_changes_total', 'Link up/down changes of a source', ['source', 'protocol'], (g, set) => {
    for (const s of g.sources) set(src(s), s.linkChanges);
  });
  metric(Gauge, 'gridgate_sink_up', 'Sink healthy (1) or failing (0)', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.health.up ? 1 : 0);
  });
  metric(Counter, 'gridgate_sink_written_total', 'Records a sink stored for the first time', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.counters.written);
  });
  metric(Counter, 'gridgate_sink_duplicates_total', 'Records a sink recognised by id and dropped', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.counters.duplicates);
  });
  metric(Counter, 'gridgate_sink_errors_total', 'Failed batches', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.counters.errors);
  });
  metric(Counter, 'gridgate_sink_retries_total', 'Batches written again after a failure', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.retries);
  });
  metric(Counter, 'gridgate_sink_delivered_total', 'Records acknowledged by a sink (rate() gives records/s)', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.delivered);
  });
  metric(Gauge, 'gridgate_sink_queue_depth', 'Records accepted that a sink has not acknowledged', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.backlog);
  });
  metric(Gauge, 'gridgate_sink_lag_seconds', 'Receive-to-acknowledge time of the last record a sink took', ['sink'], (g, set) => {
    for (const s of g.sinks) set(sink(s), s.lagMs / 1000);
  });
  metric(Gauge, 'gridgate_journal_records', 'Records held in the journal', [], (g, set) => set({}, g.journalRecords));
  metric(Counter, 'gridgate_pipeline_accepted_total', 'Records committed to the journal', [], (g, set) => set({}, g.accepted));
  metric(Gauge, 'gridgate_pipeline_pending', 'Records waiting for the next journal commit', [], (g, set) => set({}, g.pending));
  return registry;
}
