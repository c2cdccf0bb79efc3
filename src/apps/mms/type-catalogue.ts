/**
 * A type catalogue: MMS variables (`LD/LN$FC$DO$DA`, IEC 61850-8-1 clause 9) and the TypeDescription
 * (ISO 9506-2 14.4.3) of each, with component names. Filled from getVariableAccessAttributes
 * responses (in a capture, or asked of a live server) and from an SCL file; consulted by the
 * value renderers to print `{stVal=true, q=good, t=...}` instead of positional components.
 *
 * A type known for a variable answers for every component under it: knowing `LD/GGIO1$ST` (a
 * whole functional constraint) gives `LD/GGIO1$ST$SPCSO1$stVal` by descending the component names.
 * Nothing is guessed: a reference no known type reaches has no type.
 */
import type { MmsComponent, MmsType } from '../../protocols/mms/types.js';

/** Variables kept per catalogue; past this the oldest learnt is forgotten (a capture may describe many). */
export const TYPE_CATALOGUE_MAX = 10_000;

/** `LD/LN$FC$DO` with dots read as `$` (some IEDs write references with dots). */
const normal = (ref: string): string => ref.replaceAll('.', '$');

/** Descends `type` by the component names in `path`. */
function descend(type: MmsType, name: string, path: readonly string[]): MmsComponent | undefined {
  let at: MmsComponent = { name, type };
  for (const part of path) {
    if (at.type.kind !== 'structure') return undefined;
    const next = at.type.components.find((c) => c.name === part);
    if (next === undefined) return undefined;
    at = next;
  }
  return at;
}

/** Types of MMS variables by reference, with a fallback catalogue consulted for what this one does not know. */
export class TypeCatalogue {
  readonly #types = new Map<string, MmsType>();
  readonly #fallback: TypeCatalogue | undefined;

  /** `fallback`: consulted when no type here reaches a reference (e.g. the types of an SCL file under those a server gave). */
  constructor(fallback?: TypeCatalogue) {
    this.#fallback = fallback;
  }

  /** Variables whose type is held here (not counting the fallback). */
  get size(): number {
    return this.#types.size;
  }

  /** Learns the type of `ref` (`LD/LN$FC...`, or a VMD-scope name without `/`). */
  set(ref: string, type: MmsType): void {
    const key = normal(ref);
    this.#types.delete(key);
    this.#types.set(key, type);
    if (this.#types.size > TYPE_CATALOGUE_MAX) this.#types.delete(this.#types.keys().next().value!);
  }

  /**
   * The type of `ref` and its own name (the last part of the reference): from the longest known
   * reference that is `ref` or contains it, then from the fallback.
   */
  lookup(ref: string): MmsComponent | undefined {
    const key = normal(ref);
    const slash = key.indexOf('/');
    const domain = key.slice(0, slash + 1);
    const parts = key.slice(slash + 1).split('$');
    for (let n = parts.length; n > 0; n--) {
      const type = this.#types.get(domain + parts.slice(0, n).join('$'));
      if (type === undefined) continue;
      const found = descend(type, parts[n - 1]!, parts.slice(n));
      if (found !== undefined) return found;
    }
    return this.#fallback?.lookup(ref);
  }
}
