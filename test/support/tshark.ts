/**
 * tshark, the independent judge of the tests: a live capture on loopback, and the fields its
 * dissectors read from a capture file, one record per frame.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createConnection } from 'node:net';

/** Each field's occurrences in one frame (empty when the field is absent). */
export type TsharkFrame = Record<string, string[]>;

/** Separates a field's occurrences; no field the tests read contains it. */
const AGGREGATOR = '|';

/**
 * `tshark -r file -T fields` for `fields`, with `-d` decode-as rules (e.g. `tcp.port==102,tpkt`)
 * and an optional display filter.
 */
export function tsharkFields(file: string, o: { fields: readonly string[]; decodeAs?: readonly string[]; filter?: string }): TsharkFrame[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      ...(o.decodeAs ?? []).flatMap((d) => ['-d', d]),
      ...(o.filter === undefined ? [] : ['-Y', o.filter]),
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      `aggregator=${AGGREGATOR}`,
      ...o.fields.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [o.fields[i]!, v === '' ? [] : v.split(AGGREGATOR)])));
}

/**
 * Starts tshark capturing TCP port `port` on loopback into `file`; resolves once packets are
 * being captured (dumpcap needs a moment: the port is knocked on until tshark reports one).
 * The returned function stops the capture after a short drain and resolves when the file is closed.
 */
export async function captureLoopback(port: number, file: string): Promise<() => Promise<void>> {
  const capture = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file, '-P', '-l'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  capture.stdout.on('data', (d: Buffer) => (seen += d.toString()));
  const exited = new Promise((r) => capture.on('close', r));
  const deadline = Date.now() + 20_000;
  while (seen === '') {
    if (Date.now() > deadline || capture.exitCode !== null) throw new Error('tshark did not start capturing');
    await new Promise<void>((resolve) => {
      const probe = createConnection({ host: '127.0.0.1', port }, () => probe.end());
      probe.on('close', () => resolve());
      probe.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  return async () => {
    await new Promise((r) => setTimeout(r, 500));
    capture.kill('SIGINT');
    await exited;
  };
}
