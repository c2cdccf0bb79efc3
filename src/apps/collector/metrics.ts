/**
 * The collector's Prometheus metrics: the gateway's source and sink metrics (one source, `tase2`;
 * sink queue depth and lag), and the collector's own (associations, values, duplicates dropped,
 * negotiation failures, the latency histogram), read from snapshots at each scrape.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { gatewayRegistry } from '../gateway/metrics.js';
import type { Pipeline } from '../sinks/pipeline.js';
import type { CollectorSnapshot, Tase2Collector } from './collector.js';
import { LATENCY_BUCKETS_MS } from './recent.js';

/** A registry with the pipeline's metrics and the collector's. */
export function collectorRegistry(collector: Tase2Collector, pipeline: Pipeline): Registry {
  const registry = gatewayRegistry(() => {
    const s = collector.snapshot();
    return {
      sources: [{ name: 'tase2', protocol: 'tase2', up: s.associations + s.stationsUp > 0, records: s.values, linkChanges: 0 }],
      sinks: pipeline.status(),
      journalRecords: pipeline.journalSize(),
      accepted: pipeline.accepted,
      pending: pipeline.pending,
    };
  });
  const metric = (Kind: typeof Gauge | typeof Counter, name: string, help: string, value: (s: CollectorSnapshot) => number): void => {
    registry.registerMetric(
      new Kind({
        name,
        help,
        collect(this: Gauge | Counter) {
          this.reset();
          const v = value(collector.snapshot());
          if (this instanceof Gauge) this.set(v);
          else this.inc(v);
        },
      }),
    );
  };
  metric(Gauge, 'gridgate_tase2_associations', 'PUSH associations reporting now', (s) => s.associations);
  metric(Counter, 'gridgate_tase2_associations_total', 'PUSH associations negotiated since start', (s) => s.associationsTotal);
  metric(Gauge, 'gridgate_tase2_stations_up', 'PULL stations connected now', (s) => s.stationsUp);
  metric(Gauge, 'gridgate_tase2_stations_listed', 'PULL stations the generator lists', (s) => s.stationsListed);
  metric(Counter, 'gridgate_tase2_values_total', 'Values handed to the pipeline (rate() gives values/s)', (s) => s.values);
  metric(
    Counter,
    'gridgate_tase2_duplicates_dropped_total',
    'Values received again (another path, a reconnect, an integrity report) and dropped by record id',
    (s) => s.duplicatesDropped,
  );
  metric(
    Counter,
    'gridgate_tase2_negotiation_failures_total',
    'Associations whose transfer set could not be started',
    (s) => s.negotiationFailures,
  );
  metric(Counter, 'gridgate_tase2_malformed_total', 'Values that did not decode and PDUs the endpoint refused', (s) => s.malformed);
  metric(Counter, 'gridgate_tase2_overflow_total', 'Values dropped because the pipeline did not keep up', (s) => s.overflow);
  metric(Gauge, 'gridgate_tase2_inflight', 'Values waiting for the journal commit', (s) => s.inflight);
  registry.registerMetric(latencyMetric(collector) as unknown as Gauge);
  return registry;
}

/** The latency histogram as prom-client prints one: cumulative buckets in seconds, a sum and a count. */
function latencyMetric(collector: Tase2Collector): object {
  const name = 'gridgate_tase2_latency_seconds';
  const help = 'Value time stamp (the change at the node) to received by the collector';
  return {
    name,
    help,
    type: 'histogram',
    get: () => {
      const h = collector.snapshot().latency;
      let cumulative = 0;
      const buckets = h.counts.map((c, i) => {
        cumulative += c;
        const le = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! / 1000 : '+Inf';
        return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
      });
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...buckets,
          { labels: {}, value: h.sum / 1000, metricName: `${name}_sum` },
          { labels: {}, value: h.count, metricName: `${name}_count` },
        ],
      };
    },
    reset: () => undefined,
  };
}
