/**
 * The nodes' own addresses on a real interface (`--interface IF --add-addresses CIDR`, root only),
 * as the seed's generator assigns them: added before the run, removed after it — also when the
 * run fails or is interrupted. One `ip -batch` per direction, so thousands of addresses take one
 * process each way. Addresses already present are left alone and not removed afterwards.
 */
import { execFile } from 'node:child_process';
import { ErrorCode, GridgateError } from '../../core/errors.js';

function ipBatch(commands: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['-force', '-batch', '-'], { maxBuffer: 16 * 2 ** 20 }, (err, _stdout, stderr) => {
      if (err === null) resolve(stderr);
      else reject(Object.assign(err, { stderr }));
    });
    child.stdin?.end(`${commands.join('\n')}\n`);
  });
}

/** The addresses (of `wanted`) already on the interface. */
async function present(dev: string, wanted: ReadonlySet<string>): Promise<Set<string>> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['-o', '-4', 'addr', 'show', 'dev', dev], (err, stdout) => (err === null ? resolve(stdout) : reject(err))),
  );
  const found = new Set<string>();
  for (const m of out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)) if (wanted.has(m[1]!)) found.add(m[1]!);
  return found;
}

/** Addresses added to an interface; {@link AddedAddresses.remove} takes them away again (once; rejects naming what failed). */
export interface AddedAddresses {
  readonly added: readonly string[];
  remove(): Promise<void>;
}

/**
 * Adds `addresses` (with the block's prefix length) to `dev`. Fails with a configuration error
 * naming the cause when not root or the interface does not exist; on a partial failure what was
 * added is removed before the error is thrown.
 */
export async function addAddresses(dev: string, addresses: readonly string[], prefix: number): Promise<AddedAddresses> {
  if (process.getuid?.() !== 0) {
    throw new GridgateError(ErrorCode.CONFIG, `--add-addresses needs root (ip addr add on ${dev}); run without it to use 127.0.0.0/8`);
  }
  let before: Set<string>;
  try {
    before = await present(dev, new Set(addresses));
  } catch (err) {
    throw new GridgateError(ErrorCode.CONFIG, `interface ${dev}: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err });
  }
  const added = addresses.filter((a) => !before.has(a));
  const why = (err: unknown): string => (err as { stderr?: string }).stderr?.split('\n')[0] || (err as Error).message;
  // Newest first: the first address of a block is the primary; removing it first would take the secondaries with it.
  const remove = (): Promise<string> => ipBatch(added.toReversed().map((a) => `addr del ${a}/${prefix} dev ${dev}`));
  try {
    await ipBatch(added.map((a) => `addr add ${a}/${prefix} dev ${dev}`));
  } catch (err) {
    const cleanup = await remove().then(
      () => '',
      (e: unknown) => `; removing them again failed too: ${why(e)}`,
    );
    throw new GridgateError(ErrorCode.CONFIG, `adding the node addresses to ${dev} failed: ${why(err)}${cleanup}`, { cause: err });
  }
  let removed = false;
  return {
    added,
    remove: async () => {
      if (removed) return;
      removed = true;
      try {
        await remove();
      } catch (err) {
        throw new GridgateError(ErrorCode.CONFIG, `removing the node addresses from ${dev} failed: ${why(err)}`, { cause: err });
      }
    },
  };
}
