/**
 * `gridgate points`: read back what the gateway stored (latest values, a time range) from SQLite
 * or PostgreSQL, and copy a JetStream stream into another sink.
 */
import { Command } from 'commander';
import { consumeInto } from '../../apps/sinks/nats-consumer.js';
import { PostgresSink } from '../../apps/sinks/postgres.js';
import { latestValues, rangeValues, type QueryFilter, type Store, type StoredValue } from '../../apps/sinks/query.js';
import { SqliteSink } from '../../apps/sinks/sqlite.js';
import { ConfigError } from '../../core/errors.js';
import { addOutputOptions, emit, intArg, untilSignal, type OutputOptions } from './common.js';

interface StoreOptions extends OutputOptions {
  readonly db?: string;
  readonly pg?: string;
  readonly source?: string;
  readonly point?: string;
  readonly limit: number;
}

function storeOf(o: StoreOptions): Store {
  if ((o.db === undefined) === (o.pg === undefined)) {
    throw new ConfigError([
      { file: '(command line)', field: '--db/--pg', message: 'give one of --db <sqlite file> or --pg <postgres url>' },
    ]);
  }
  return o.db !== undefined ? { sqlite: o.db } : { postgres: o.pg! };
}

function timeArg(name: string): (v: string) => number {
  return (v: string) => {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(t))
      throw new ConfigError([
        { file: '(command line)', field: name, message: `'${v}' is not a date (ISO 8601) or milliseconds since 1970` },
      ]);
    return t;
  };
}

function filterOf(o: StoreOptions & { from?: number; to?: number }): QueryFilter {
  return {
    limit: o.limit,
    ...(o.source === undefined ? {} : { source: o.source }),
    ...(o.point === undefined ? {} : { point: o.point }),
    ...(o.from === undefined ? {} : { from: o.from }),
    ...(o.to === undefined ? {} : { to: o.to }),
  };
}

function print(o: OutputOptions, values: readonly StoredValue[]): void {
  for (const v of values) {
    const flags = v.flags.length === 0 ? '' : ` [${v.flags.join(',')}]`;
    emit(o, `${new Date(v.time).toISOString()}  ${v.source}  ${v.point}  ${String(v.value)}  ${v.validity}${flags}`, {
      ...v,
      time: new Date(v.time).toISOString(),
    });
  }
  if (o.json !== true && values.length === 0) emit(o, '(no values)', {});
}

function storeOptions(cmd: Command): Command {
  cmd
    .option('--db <file>', 'SQLite file written by the sqlite sink')
    .option('--pg <url>', 'PostgreSQL URL written by the postgres sink, e.g. postgres://postgres@127.0.0.1/test')
    .option('--source <name>', 'only this source')
    .option('--point <name>', 'only this point (a trailing * matches a prefix: 1/40*)')
    .option('--limit <n>', 'at most this many values', intArg('--limit', 1, 10_000_000), 1000);
  return addOutputOptions(cmd, 'warn');
}

export function pointsCommand(): Command {
  const cmd = new Command('points').description(
    'read back stored points (latest values, a time range) or copy a JetStream stream into a sink',
  );
  cmd.addHelpText(
    'after',
    '\nExample:\n  gridgate points latest --db gridgate-demo.db\n  gridgate points range --db gridgate-demo.db --point 1/* --from 2026-12-07T10:00:00Z',
  );

  const latest = storeOptions(new Command('latest').description('the newest value of each point'));
  latest.action(async (o: StoreOptions) => print(o, await latestValues(storeOf(o), filterOf(o))));
  cmd.addCommand(latest);

  const range = storeOptions(new Command('range').description('every stored value in a time range, oldest first'))
    .option('--from <time>', 'start (ISO 8601 or ms since 1970), inclusive', timeArg('--from'))
    .option('--to <time>', 'end, exclusive', timeArg('--to'));
  range.action(async (o: StoreOptions & { from?: number; to?: number }) => print(o, await rangeValues(storeOf(o), filterOf(o))));
  cmd.addCommand(range);

  const consume = new Command('consume')
    .description('copy a JetStream stream (written by the nats sink) into SQLite or PostgreSQL, resuming where the last run stopped')
    .option('--nats <url>', 'NATS server', 'nats://127.0.0.1:4222')
    .option('--stream <name>', 'stream name', 'GRIDGATE')
    .option('--durable <name>', 'durable consumer name', 'gridgate-consume')
    .option('--filter <subject>', 'only these subjects, e.g. gridgate.points.rtu1.>')
    .option('--into-db <file>', 'SQLite file to write')
    .option('--into-pg <url>', 'PostgreSQL URL to write');
  addOutputOptions(consume, 'warn');
  consume.action(
    async (o: OutputOptions & { nats: string; stream: string; durable: string; filter?: string; intoDb?: string; intoPg?: string }) => {
      if ((o.intoDb === undefined) === (o.intoPg === undefined)) {
        throw new ConfigError([{ file: '(command line)', field: '--into-db/--into-pg', message: 'give one of --into-db or --into-pg' }]);
      }
      const sink = o.intoDb !== undefined ? new SqliteSink({ file: o.intoDb }) : new PostgresSink({ url: o.intoPg! });
      const ac = new AbortController();
      void untilSignal().then(() => ac.abort());
      let total = 0;
      await consumeInto(
        { servers: o.nats, stream: o.stream, durable: o.durable, ...(o.filter === undefined ? {} : { filter: o.filter }) },
        sink,
        ac.signal,
        (n) => {
          total += n;
          emit(o, `${total} records copied`, { event: 'copied', total });
        },
      );
    },
  );
  cmd.addCommand(consume);
  return cmd;
}
