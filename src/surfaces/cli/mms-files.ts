/**
 * `gridgate mms files ls|get|rm`: the MMS file services (ISO 9506-2 Annex D) of an IED or of
 * `gridgate iec61850-sim --files`: list its files, fetch one (COMTRADE records, SCL files), delete one.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { MmsClient } from '../../apps/mms/client.js';
import { emit, EXIT_HELP, intArg } from './common.js';
import { addMmsConnectionOptions, mmsClientOptions, type MmsConnectionOptions } from './mms-connection.js';

type FilesOptions = MmsConnectionOptions;

interface GetOptions extends FilesOptions {
  readonly output?: string;
  readonly maxBytes: number;
}

/** Runs `work` on an association and releases it within the timeout, also after a failure. */
async function withClient<T>(o: FilesOptions, work: (c: MmsClient) => Promise<T>): Promise<T> {
  const c = await MmsClient.connect(mmsClientOptions(o));
  try {
    return await work(c);
  } finally {
    await c.release(o.timeout * 1000);
  }
}

const when = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** The `gridgate mms files` group. */
export function mmsFilesCommand(): Command {
  const files = new Command('files').description('MMS file services: list, fetch and delete files of an IED (COMTRADE, SCL, logs)');
  files.addCommand(
    addMmsConnectionOptions(new Command('ls'))
      .description('list the files (fileDirectory, following moreFollows): name, size, last modified')
      .argument('[path]', 'a directory or file of the IED (default: everything)')
      .action(async (path: string | undefined, o: FilesOptions) => {
        const entries = await withClient(o, (c) => c.fileDirectory(path));
        for (const e of entries) {
          emit(o, `${String(e.sizeOfFile).padStart(10)}  ${when(e.lastModified)}  ${e.fileName}`, {
            fileName: e.fileName,
            sizeOfFile: e.sizeOfFile,
            ...(e.lastModified === undefined ? {} : { lastModified: when(e.lastModified) }),
          });
        }
      }),
  );
  files.addCommand(
    addMmsConnectionOptions(new Command('get'))
      .description('fetch one file (fileOpen, fileRead until the last block, fileClose) into a local file')
      .argument('<name>', 'the file on the IED, e.g. COMTRADE/fault1.cfg')
      .option('--output <file>', 'where to write it (default: its base name in the current directory; - for standard output)')
      .option('--max-bytes <n>', 'refuse files larger than this', intArg('--max-bytes', 1, 2 ** 31), 64 * 1024 * 1024)
      .action(async (name: string, o: GetOptions) => {
        const got = await withClient(o, (c) => c.getFile(name, { maxBytes: o.maxBytes }));
        const out = o.output ?? basename(name);
        if (out === '-') process.stdout.write(got.data);
        else writeFileSync(out, got.data);
        if (out !== '-')
          emit(o, `${name}: ${got.data.length} octets written to ${out}`, { fileName: name, octets: got.data.length, output: out });
      }),
  );
  files.addCommand(
    addMmsConnectionOptions(new Command('rm'))
      .description('delete one file (fileDelete); the IED may refuse (file-access-denied)')
      .argument('<name>', 'the file on the IED')
      .action(async (name: string, o: FilesOptions) => {
        await withClient(o, (c) => c.deleteFile(name));
        emit(o, `${name}: deleted`, { fileName: name, deleted: true });
      }),
  );
  files.addHelpText(
    'after',
    `
Examples:
  gridgate mms files ls --host 10.0.0.5 COMTRADE
  gridgate mms files get --host 10.0.0.5 COMTRADE/fault1.cfg --output fault1.cfg
  gridgate mms files rm --host 127.0.0.1 --port 10102 logs/old.txt
${EXIT_HELP}`,
  );
  return files;
}
