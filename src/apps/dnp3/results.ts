/**
 * What a DNP3 master reports of an outstation's answers: command status by name, and the IIN2
 * request-error bits of a refused read or command ({@link Dnp3RejectedError}).
 */
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import type { Fragment } from '../../protocols/dnp3/app/codec.js';
import { IIN_INDEX, requestErrors, type IinName } from '../../protocols/dnp3/app/header.js';
import type { KuraBlock } from './kura.js';

/** What an outstation answered to a command. */
export interface CommandResult {
  readonly status: string;
  readonly statusCode: number;
}

/**
 * The outstation answered a read or command with IIN2 request-error bits (IIN2.0 function not
 * supported, IIN2.1 object unknown, IIN2.2 parameter error): it did not do all that was asked.
 * `blocks` holds whatever data the response still carried.
 */
export class Dnp3RejectedError extends ProtocolError {
  readonly rejected: readonly IinName[];
  readonly blocks: readonly KuraBlock[];
  constructor(task: string, rejected: readonly IinName[], blocks: readonly KuraBlock[]) {
    super('dnp3.master', ErrorCode.NEGATIVE, `${task} rejected by the outstation: ${iinText(rejected)}`, { fault: 'remote' });
    this.rejected = rejected;
    this.blocks = blocks;
  }
}

/** `IIN2.2 PARAMETER_ERROR, IIN2.1 OBJECT_UNKNOWN` style text of IIN bits. */
export function iinText(names: readonly IinName[]): string {
  return names
    .map((n) => {
      const i = IIN_INDEX[n];
      return `IIN${i < 8 ? 1 : 2}.${i % 8} ${n}`;
    })
    .join(', ');
}

/** The request-error bits of any fragment of a response. */
export function rejectedBy(fragments: readonly Fragment[]): IinName[] {
  const names = new Set<IinName>();
  for (const f of fragments) if (f.iin !== undefined) for (const n of requestErrors(f.iin)) names.add(n);
  return [...names];
}

/** The command status of the first object an outstation echoed, or undefined if none. */
export function echoedStatus(fragments: readonly Fragment[]): CommandResult | undefined {
  const p = fragments[0]?.objects[0]?.points[0];
  if (p === undefined || p.status === undefined) return undefined;
  return { status: p.statusName ?? `STATUS_${p.status}`, statusCode: p.status };
}
