/** `npm run bench`: every benchmark, printed with its baseline. Not part of the tests. */
import { cpus } from 'node:os';
import { codecBench } from './codec.js';
import { dnp3CodecBench, dnp3PollBench } from './dnp3.js';
import { loopbackBench } from './loopback.js';
import { mmsCodecBench, mmsLoopbackBench } from './mms.js';
import { proxyBench } from './proxy.js';
import { memory } from './stats.js';

console.log(`gridgate benchmarks on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`start: ${memory()}`);
codecBench();
await loopbackBench();
await proxyBench();
dnp3CodecBench();
await dnp3PollBench();
await (await import('./dnp3-hostile.js')).dnp3HostileBench();
const mms = mmsCodecBench();
await mmsLoopbackBench(mms.decodeReport);
await (await import('./transport-retry.js')).transportRetryBench();
console.log(`end: ${memory()}`);
