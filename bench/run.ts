/**
 * `npm run bench [-- name...]`: the benchmarks, each printed with its baseline. Not part of the
 * tests. `npm run bench` compiles src/ and bench/ with tsc (tsconfig.bench.json) and runs the
 * JavaScript from dist-bench/, so the figures are those of the code users run, not of the tsx
 * loader. A new bench is one line in {@link BENCHES}.
 */
import { cpus } from 'node:os';
import { memory } from './stats.js';

/** Benchmarks by name, in the order a full run takes them. */
const BENCHES: Record<string, () => Promise<unknown>> = {
  codec: async () => (await import('./codec.js')).codecBench(),
  loopback: async () => (await import('./loopback.js')).loopbackBench(),
  proxy: async () => (await import('./proxy.js')).proxyBench(),
  'proxy-flood': async () => (await import('./proxy-flood.js')).proxyFloodBench(),
  'proxy-core': async () => (await import('./proxy-core.js')).proxyCoreBench(),
  dnp3: async () => {
    const d = await import('./dnp3.js');
    d.dnp3CodecBench();
    return d.dnp3PollBench();
  },
  mms: async () => {
    const m = await import('./mms.js');
    return m.mmsLoopbackBench(m.mmsCodecBench().decodeReport);
  },
  tase2: async () => (await import('./tase2.js')).tase2Bench(),
  'tase2-loopback': async () => (await import('./tase2-loopback.js')).tase2LoopbackBench(),
  'tase2-collect': async () => (await import('./tase2-collect.js')).tase2CollectBench(),
  'tase2-gen': async () => (await import('./tase2-gen.js')).tase2GenBench(),
  'tase2-testbed': async () => (await import('./tase2-testbed.js')).tase2TestbedBench(),
  'proxy-hostile': async () => (await import('./proxy-hostile.js')).proxyHostileBench(),
  'mms-hostile': async () => (await import('./mms-hostile.js')).mmsHostileBench(),
  'dnp3-hostile': async () => (await import('./dnp3-hostile.js')).dnp3HostileBench(),
  'transport-retry': async () => (await import('./transport-retry.js')).transportRetryBench(),
  sinks: async () => (await import('./sinks.js')).sinksBench(),
};

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const compiled = import.meta.url.endsWith('.js');
console.log(`gridgate benchmarks on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`code: ${compiled ? 'compiled by tsc (dist-bench/)' : 'TypeScript through the tsx loader (slower than what users run)'}`);
console.log(`start: ${memory()}`);
for (const name of asked.length > 0 ? asked : Object.keys(BENCHES)) await BENCHES[name]!();
console.log(`end: ${memory()}`);
