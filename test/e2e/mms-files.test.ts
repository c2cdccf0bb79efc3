/**
 * The MMS file services (ISO 9506-2 Annex D) between gridgate's client and server over loopback
 * TCP: a directory listing paged by continueAfter, files read in PDU-sized blocks, names confined
 * to the store, delete only when allowed; tshark captures and its MMS dissector judges the frames.
 */
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsClient } from '../../src/apps/mms/client.js';
import { DirectoryFileStore } from '../../src/apps/mms/file-store.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { captureLoopback, tsharkFields, type TsharkFrame } from '../support/tshark.js';
import { tempDir } from './support.js';

const FIELDS = [
  '_ws.malformed',
  '_ws.expert.severity',
  'mms.confirmedServiceRequest',
  'mms.confirmedServiceResponse',
  'mms.FileName_item',
  'mms.frsmID',
  'mms.sizeOfFile',
  'mms.lastModified',
  'mms.fileData',
  'mms.moreFollows',
  'mms.initialPosition',
  'mms.errorClass',
];

/** A file of `n` octets whose content names its position (so a block out of order shows). */
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

describe('MMS file services over TCP', () => {
  const root = tempDir('mms-files');
  const outside = tempDir('mms-files-outside');
  const comtrade = pattern(5000);
  let server: MmsServer;
  let port = 0;
  let frames: TsharkFrame[] = [];

  beforeAll(async () => {
    mkdirSync(join(root, 'COMTRADE'));
    writeFileSync(join(root, 'COMTRADE', 'fault1.cfg'), 'SIMIED,1,1999\n');
    writeFileSync(join(root, 'COMTRADE', 'fault1.dat'), comtrade);
    writeFileSync(join(root, 'IED.cid'), '<SCL/>');
    for (let i = 0; i < 40; i++) writeFileSync(join(root, `log${String(i).padStart(2, '0')}.txt`), `line ${i}\n`);
    writeFileSync(join(outside, 'secret.txt'), 'not yours');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'escape.txt'));
    server = new MmsServer({ files: new DirectoryFileStore(root) });
    port = await server.listen({ host: '127.0.0.1', port: 0 });

    const file = join(tempDir('mms-files-capture'), 'files.pcapng');
    const stop = await captureLoopback(port, file);
    const c = await MmsClient.connect({ host: '127.0.0.1', port, maxPduSize: 1000 });
    await c.fileDirectory('COMTRADE');
    await c.getFile('COMTRADE/fault1.dat');
    await c.getFile('COMTRADE/nope.cfg').catch(() => undefined);
    await c.release();
    await stop();
    frames = tsharkFields(file, { fields: FIELDS, decodeAs: [`tcp.port==${port},tpkt`], filter: 'mms' });
  }, 60_000);
  afterAll(() => server.close());

  it('lists the store, paging with continueAfter to the agreed PDU size', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port, maxPduSize: 400 });
    const all = await c.fileDirectory();
    expect(all.map((e) => e.fileName)).toEqual([
      'COMTRADE/fault1.cfg',
      'COMTRADE/fault1.dat',
      'IED.cid',
      ...Array.from({ length: 40 }, (_, i) => `log${String(i).padStart(2, '0')}.txt`),
    ]);
    expect(all[1]).toMatchObject({ sizeOfFile: 5000, lastModified: expect.any(Number) });
    expect(Math.abs(all[1]!.lastModified! - Date.now())).toBeLessThan(60_000);
    expect((await c.fileDirectory('COMTRADE')).map((e) => e.fileName)).toEqual(['COMTRADE/fault1.cfg', 'COMTRADE/fault1.dat']);
    await c.release();
  });

  it('reads a file whole in blocks that fit the PDU size, and closes it', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port, maxPduSize: 300 });
    const got = await c.getFile('COMTRADE/fault1.dat');
    expect(got.attributes.sizeOfFile).toBe(5000);
    expect(Buffer.from(got.data).equals(Buffer.from(comtrade))).toBe(true);
    expect([...server.connections][0]!.files.openFiles).toBe(0);
    await c.release();
  });

  it('confines names to the store: no .., no absolute path, no symbolic link out', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    const code = async (name: string): Promise<number | undefined> =>
      c.getFile(name).then(
        () => undefined,
        (e: { serviceError?: { errorClassName: string; code: number } }) =>
          e.serviceError?.errorClassName === 'file' ? e.serviceError.code : -1,
      );
    expect(await code('../mms-files-outside/secret.txt')).toBe(3); // filename-syntax-error
    expect(await code('/etc/passwd')).toBe(3);
    expect(await code('escape.txt')).toBe(6); // file-access-denied
    expect(await code('COMTRADE/nope.cfg')).toBe(7); // file-non-existent
    expect((await c.fileDirectory()).some((e) => e.fileName === 'escape.txt')).toBe(false);
    await c.release();
  });

  it('refuses deletion in a read-only store and deletes when allowed', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    await expect(c.deleteFile('IED.cid')).rejects.toMatchObject({ serviceError: { errorClassName: 'file', code: 6 } });
    await c.release();
    const writable = new MmsServer({ files: new DirectoryFileStore(root, { allowDelete: true }) });
    const p = await writable.listen({ host: '127.0.0.1', port: 0 });
    const w = await MmsClient.connect({ host: '127.0.0.1', port: p });
    await w.deleteFile('log39.txt');
    expect(existsSync(join(root, 'log39.txt'))).toBe(false);
    await expect(w.deleteFile('escape.txt')).rejects.toMatchObject({ serviceError: { errorClassName: 'file', code: 6 } });
    expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
    await w.release();
    await writable.close();
  });

  it('tshark reads every file service frame without a malformed field, with the names, sizes and blocks sent', () => {
    expect(frames.length).toBeGreaterThan(8);
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0)).toEqual([]);
    expect(frames.filter((f) => f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
    const all = (field: string): string[] => frames.flatMap((f) => f[field]!);
    // ConfirmedServiceRequest/Response choice numbers: fileOpen 72, fileRead 73, fileClose 74, fileDirectory 77.
    expect(new Set(all('mms.confirmedServiceRequest'))).toEqual(new Set(['72', '73', '74', '77']));
    expect(new Set(all('mms.confirmedServiceResponse'))).toEqual(new Set(['72', '73', '74', '77']));
    expect(all('mms.FileName_item')).toEqual(
      expect.arrayContaining(['COMTRADE', 'COMTRADE/fault1.cfg', 'COMTRADE/fault1.dat', 'COMTRADE/nope.cfg']),
    );
    expect(all('mms.sizeOfFile')).toEqual(expect.arrayContaining(['14', '5000']));
    expect(all('mms.errorClass')).toHaveLength(1);
    // 5,000 octets in blocks of at most 1000 - 32: six reads, the last with moreFollows false.
    expect(frames.filter((f) => f['mms.fileData']!.length > 0)).toHaveLength(6);
  });
});
