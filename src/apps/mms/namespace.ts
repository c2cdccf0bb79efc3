/**
 * What an MMS server serves (ISO 9506-1 clause 11 and 12): the VMD's domains, named variables and
 * named variable lists. A variable is a tree of nodes: a leaf reads and writes one value, an inner
 * node is a structure of its children, and every node is addressable by its `$`-joined path
 * (`GGIO1$ST$SPCSO1$stVal`), as IEC 61850-8-1 and TASE.2 name their objects.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { DATA_ACCESS_ERRORS, accessFailure, type AccessResult, type ObjectName, type VariableRef } from '../../protocols/mms/access.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { WriteResult } from '../../protocols/mms/services.js';
import type { TypeNode } from '../../protocols/mms/types.js';

/** A DataAccessError by name (14.4.1). */
export type DataAccessErrorName = (typeof DATA_ACCESS_ERRORS)[number];

/** Who is asking: handlers may answer per connection (RCB ownership, access rights). */
export interface Caller {
  readonly id: number;
  readonly remote: string;
}

/** A leaf's value, or the DataAccessError that answers for it. */
export type ReadOutcome = MmsData | { readonly error: DataAccessErrorName };

/** One node of a variable. */
export interface MmsNode {
  readonly name: string;
  /** A structure's components, in order. */
  readonly children?: readonly MmsNode[];
  /** A leaf's value. */
  read?(caller: Caller): ReadOutcome;
  /** A leaf's write; returns the DataAccessError that refuses it, or undefined when done. Without it the leaf is read-only. */
  write?(value: MmsData, caller: Caller): DataAccessErrorName | undefined;
}

/** A named variable list (data set): members and whether a client may delete it. */
export interface VariableList {
  readonly members: readonly VariableRef[];
  readonly deletable: boolean;
}

const failure = (name: DataAccessErrorName): AccessResult => accessFailure(DATA_ACCESS_ERRORS.indexOf(name));

/** One scope of names: a domain, or the VMD itself. */
export class MmsScope {
  readonly #index = new Map<string, MmsNode>();
  readonly lists = new Map<string, VariableList>();

  /** Adds a variable tree; each of its nodes becomes a name (pre-order). */
  addVariable(node: MmsNode): this {
    const visit = (n: MmsNode, path: string): void => {
      if (this.#index.has(path)) throw new GridgateError(ErrorCode.CONFIG, `variable ${path} is defined twice`);
      this.#index.set(path, n);
      for (const c of n.children ?? []) visit(c, `${path}$${c.name}`);
    };
    visit(node, node.name);
    return this;
  }

  /** Adds a named variable list that clients cannot delete (a configured data set). */
  addList(name: string, members: readonly ObjectName[]): this {
    this.lists.set(name, { members: members.map((m) => ({ name: m })), deletable: false });
    return this;
  }

  /** Every variable name, parents before their components. */
  get names(): string[] {
    return [...this.#index.keys()];
  }

  node(path: string): MmsNode | undefined {
    return this.#index.get(path);
  }
}

/** Reads a node: a leaf's value, or the structure of its children's values. */
export function readNode(n: MmsNode, caller: Caller): AccessResult {
  if (n.children !== undefined) {
    const components: MmsData[] = [];
    for (const c of n.children) {
      const r = readNode(c, caller);
      if (!r.success) return r;
      components.push(r.data);
    }
    return { success: true, data: { type: 'structure', components } };
  }
  if (n.read === undefined) return failure('object-access-unsupported');
  const v = n.read(caller);
  return 'error' in v ? failure(v.error) : { success: true, data: v };
}

/**
 * Writes a node: a leaf through its handler, a structure component by component (the value must
 * be a structure of as many components; the first refusal stops the write).
 */
export function writeNode(n: MmsNode, value: MmsData, caller: Caller): WriteResult {
  if (n.children !== undefined) {
    if (value.type !== 'structure' || value.components.length !== n.children.length) return failure('type-inconsistent') as WriteResult;
    for (const [i, c] of n.children.entries()) {
      const r = writeNode(c, value.components[i]!, caller);
      if (!r.success) return r;
    }
    return { success: true };
  }
  if (n.write === undefined) return failure('object-access-denied') as WriteResult;
  const refused = n.write(value, caller);
  return refused === undefined ? { success: true } : (failure(refused) as WriteResult);
}

/** The type of a node, for getVariableAccessAttributes (sampled from the current values). */
export function typeOfNode(n: MmsNode, caller: Caller): TypeNode | undefined {
  if (n.children !== undefined) {
    const components: { name: string; type: TypeNode }[] = [];
    for (const c of n.children) {
      const type = typeOfNode(c, caller);
      if (type === undefined) return undefined;
      components.push({ name: c.name, type });
    }
    return { kind: 'structure', components };
  }
  const v = n.read?.(caller);
  return v === undefined || 'error' in v ? undefined : { kind: 'leaf', sample: v };
}
