/**
 * TASE.2 bilateral tables (IEC 60870-6-503 clause 8, the "Bilateral Agreement"): per remote
 * application (AP title, AE qualifier), the ICC domain it sees, the data values, data sets,
 * transfer sets and devices it may use, and which of them it may write. The table itself is never
 * sent: a client reads the server's Bilateral_Table_ID in its ICC domain and compares it with its
 * own. An AARQ from an AP title without a table is refused at association; any object outside the
 * table is answered as if it did not exist (object-access-denied / non-existent alike), so a peer
 * cannot learn what lies beyond its table.
 */
import type { Aarq } from '../iso/acse/acse.js';
import type { ObjectName } from '../mms/access.js';
import { AcseDiagnostic, type AarqRefusal } from '../mms/negotiate.js';

/** One bilateral table: what one remote control centre may see and do here. */
export interface BilateralTable {
  /** Bilateral_Table_ID (VisibleString32), one per ICC domain; both sides configure the same. */
  readonly id: string;
  /**
   * The remote AP title (dotted object identifier) and, when set, the AE qualifier it must send.
   * `<arc>.*` is a wildcard for every title under that arc (`1.1.999.*` takes `1.1.999.7` and
   * `1.1.999.7.2`, not `1.1.999` itself): one table for a whole fleet of nodes, as a collector
   * facing thousands of them needs. An exact title wins over any wildcard, a longer arc over a shorter.
   */
  readonly apTitle: string;
  readonly aeQualifier?: number;
  /** The ICC domain this peer sees (its name for the bilateral agreement). */
  readonly domain: string;
  /**
   * The ICC domain the peer's server shows us, where its Bilateral_Table_ID is read after
   * association and compared with `id` (503 8.1.3). Without it the check is skipped.
   */
  readonly remoteDomain?: string;
  /** ICC data values it may read (names in `domain`); VCC objects are readable by every peer. */
  readonly dataValues: readonly string[];
  /** Data values it may also write (block 1 set data values). */
  readonly writable?: readonly string[];
  /** Server-defined data sets (named variable lists in `domain`) it may read and use. */
  readonly dataSets?: readonly string[];
  /** Devices (block 5) it may select and operate. */
  readonly devices?: readonly string[];
  /** Conformance blocks it may use (default 1 and 2). */
  readonly blocks?: readonly number[];
}

/** The arc of a wildcard AP title (`1.1.999.*` → `1.1.999.`), undefined for an exact title. */
const wildcardArc = (apTitle: string): string | undefined => (apTitle.endsWith('.*') ? apTitle.slice(0, -1) : undefined);

/**
 * The tables that name `title`: those with the exact title when there are any, else those of the
 * longest wildcard arc it lies under.
 */
function tablesFor(tables: readonly BilateralTable[], title: string): readonly BilateralTable[] {
  const exact = tables.filter((t) => t.apTitle === title);
  if (exact.length > 0) return exact;
  let best: BilateralTable[] = [];
  let bestArc = 0;
  for (const t of tables) {
    const arc = wildcardArc(t.apTitle);
    if (arc === undefined || !title.startsWith(arc) || title.length === arc.length || arc.length < bestArc) continue;
    if (arc.length > bestArc) best = [];
    bestArc = arc.length;
    best.push(t);
  }
  return best;
}

/**
 * The table configured for the calling application of `aarq`, or the refusal naming why none fits.
 * A table found by wildcard is returned with the caller's own AP title in `apTitle`, so the
 * association knows which node it serves.
 */
export function tableForAarq(tables: readonly BilateralTable[], aarq: Aarq): BilateralTable | AarqRefusal {
  const title = aarq.callingApTitle;
  if (title === undefined) return { diagnostic: AcseDiagnostic.callingApTitleNotRecognized, reason: 'the AARQ names no calling AP title' };
  const byTitle = tablesFor(tables, title);
  if (byTitle.length === 0) {
    return { diagnostic: AcseDiagnostic.callingApTitleNotRecognized, reason: `no bilateral table for calling AP title ${title}` };
  }
  const table = byTitle.find((t) => t.aeQualifier === undefined || t.aeQualifier === aarq.callingAeQualifier);
  if (table === undefined) {
    return {
      diagnostic: AcseDiagnostic.callingAeQualifierNotRecognized,
      reason: `calling AE qualifier ${aarq.callingAeQualifier ?? 'absent'} is not the one agreed for ${title}`,
    };
  }
  return table.apTitle === title ? table : { ...table, apTitle: title };
}

/** Whether a {@link tableForAarq} answer is a refusal. */
export const isRefusal = (v: BilateralTable | AarqRefusal): v is AarqRefusal => 'diagnostic' in v;

/** What a peer wants to do with an object. */
export type Access = 'read' | 'write';

/** Whether `table` lets its peer `access` the ICC data value `name` (VCC scope is decided by the caller). */
export function mayAccessValue(table: BilateralTable, name: ObjectName, access: Access): boolean {
  if (name.scope !== 'domain' || name.domainId !== table.domain) return false;
  if (access === 'write') return table.writable?.includes(name.itemId) ?? false;
  return table.dataValues.includes(name.itemId);
}

/** Whether `table` allows conformance block `block` (1 basic services, 2 extended conditions, 4 messages, 5 devices). */
export const mayUseBlock = (table: BilateralTable, block: number): boolean => (table.blocks ?? [1, 2]).includes(block);
