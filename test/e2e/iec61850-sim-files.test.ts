/**
 * `gridgate iec61850-sim --files DIR` and `gridgate mms files ls|get|rm` (built CLI): the simulator
 * serves a directory's COMTRADE and SCL files, the CLI lists, fetches and (when allowed) deletes them.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir } from './support.js';

describe('gridgate iec61850-sim --files with gridgate mms files (built CLI)', () => {
  const dir = tempDir('sim-files');
  const out = tempDir('sim-files-out');
  const dat = Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff);
  let stop: () => void = () => undefined;
  let port = '';

  beforeAll(async () => {
    mkdirSync(join(dir, 'COMTRADE'));
    writeFileSync(join(dir, 'COMTRADE', 'fault1.cfg'), 'SIMIED,1,1999\n');
    writeFileSync(join(dir, 'COMTRADE', 'fault1.dat'), dat);
    const sim = await startCli(
      ['iec61850-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--files', dir, '--files-allow-delete'],
      /"listening"/,
    );
    stop = () => sim.child.kill('SIGTERM');
    port = String((JSON.parse(sim.line) as { port: number }).port);
  }, 20_000);
  afterAll(() => stop());

  it('lists, fetches and deletes', async () => {
    const ls = await runCli(['mms', 'files', 'ls', '--host', '127.0.0.1', '--port', port, '--json', 'COMTRADE']);
    expect(ls.code).toBe(0);
    expect(
      ls.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { fileName: string; sizeOfFile: number }),
    ).toEqual([
      expect.objectContaining({ fileName: 'COMTRADE/fault1.cfg', sizeOfFile: 14 }),
      expect.objectContaining({ fileName: 'COMTRADE/fault1.dat', sizeOfFile: 3000 }),
    ]);
    const target = join(out, 'f.dat');
    const get = await runCli(['mms', 'files', 'get', '--host', '127.0.0.1', '--port', port, 'COMTRADE/fault1.dat', '--output', target]);
    expect(get.code).toBe(0);
    expect(Buffer.from(readFileSync(target)).equals(Buffer.from(dat))).toBe(true);
    const rm = await runCli(['mms', 'files', 'rm', '--host', '127.0.0.1', '--port', port, 'COMTRADE/fault1.cfg']);
    expect(rm.code).toBe(0);
    expect(existsSync(join(dir, 'COMTRADE', 'fault1.cfg'))).toBe(false);
  });

  it('fails with the service error and a non-zero exit for a file that is not there or outside the store', async () => {
    const missing = await runCli(['mms', 'files', 'get', '--host', '127.0.0.1', '--port', port, 'nope.cfg', '--output', join(out, 'x')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/service error class file, code 7/);
    const escape = await runCli([
      'mms',
      'files',
      'get',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '../etc/passwd',
      '--output',
      join(out, 'y'),
    ]);
    expect(escape.stderr).toMatch(/service error class file, code 3/);
  });
});
