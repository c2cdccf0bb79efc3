/**
 * What a report control block reports, and the bounded buffer of a BRCB (IEC 61850-7-2 clause
 * 17.2.1, and 17.2.2 PurgeBuf, EntryID, TimeOfEntry): entries with 8-octet EntryIDs and their TimeOfEntry, a pointer to the
 * next entry to send, resynchronisation after a given EntryID, purging, and overflow — the oldest
 * entry goes when the buffer is full, and if the client had not received it yet the next report
 * says so with BufOvfl.
 */
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import type { MmsData } from '../mms/data.js';
import { ENTRY_ID_SIZE, sameOctets } from './rcb-attributes.js';
import { IEC61850_LAYER, type ReasonName } from './rcb.js';

/** One data-set member in an entry: its position, its value when the notification came, and why. */
export interface EntryMember {
  readonly index: number;
  readonly value: MmsData;
  readonly reasons: readonly ReasonName[];
}

/** One report's content (a buffer entry of a BRCB; sent at once by a URCB). */
export interface EntryContent {
  /** `event`: members that changed; the other two include every member. */
  readonly kind: 'event' | 'general-interrogation' | 'integrity';
  /** TimeOfEntry: when the first notification of the entry came (ms since 1970). */
  readonly time: number;
  /** Included members, by ascending index. */
  readonly members: readonly EntryMember[];
}

/** A buffered entry with its EntryID. */
export interface BufferedEntry extends EntryContent {
  readonly entryId: Uint8Array;
}

/** Entries a BRCB keeps by default. */
export const DEFAULT_BUFFER_ENTRIES = 1000;

/**
 * A BRCB's buffer. EntryIDs are the entry time in ms as a big-endian 64-bit number, raised past
 * the previous one when the clock has not moved (as libiec61850 makes them): unique for the
 * block and increasing across restarts while the clock does not run backwards.
 */
export class ReportBuffer {
  readonly capacity: number;
  /** Entries live in #items[#head..]; the prefix holds dropped ones until it is compacted away. */
  #items: (BufferedEntry | undefined)[] = [];
  #head = 0;
  /** Index in #items of the next entry to send (#head <= #next <= #items.length). */
  #next = 0;
  #lastId = 0n;
  /** Entries were dropped before the client received them (BufOvfl of the next report). */
  overflow = false;

  constructor(capacity: number = DEFAULT_BUFFER_ENTRIES) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new ProtocolError(IEC61850_LAYER, ErrorCode.RANGE, `a report buffer holds at least one entry, not ${capacity}`);
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Entries not sent yet. */
  get unsent(): number {
    return this.#items.length - this.#next;
  }

  /** Adds an entry; returns it and how many unsent entries overflow dropped to make room (0 or 1). */
  push(content: EntryContent): { entry: BufferedEntry; lost: number } {
    const t = BigInt(Math.max(0, Math.floor(content.time)));
    const id = t > this.#lastId ? t : this.#lastId + 1n;
    this.#lastId = id;
    const entryId = new Uint8Array(ENTRY_ID_SIZE);
    new DataView(entryId.buffer).setBigUint64(0, BigInt.asUintN(64, id));
    const entry: BufferedEntry = { ...content, entryId };
    let lost = 0;
    if (this.length >= this.capacity) {
      this.#items[this.#head++] = undefined;
      if (this.#next < this.#head) {
        this.#next = this.#head;
        lost = 1;
        this.overflow = true;
      }
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#next -= this.#head;
        this.#head = 0;
      }
    }
    this.#items.push(entry);
    return { entry, lost };
  }

  /** The next entry to send, if any. */
  peek(): BufferedEntry | undefined {
    return this.#items[this.#next];
  }

  /** Marks the entry {@link peek} gave as sent. */
  advance(): void {
    if (this.#next < this.#items.length) this.#next++;
  }

  /** Moves the next entry to send back by `n` entries already sent (never before the oldest). */
  stepBack(n: number): void {
    this.#next = Math.max(this.#head, this.#next - n);
  }

  /** Sends from the oldest entry again (enable without resynchronisation). */
  rewind(): void {
    this.#next = this.#head;
  }

  /** Positions after the entry `entryId` (resynchronisation); undefined, and nothing moved, when no entry has it. */
  resumeAfter(entryId: Uint8Array): BufferedEntry | undefined {
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      if (!sameOctets(e.entryId, entryId)) continue;
      this.#next = i + 1;
      // Everything overflow dropped was older than an entry the client already has.
      this.overflow = false;
      return e;
    }
    return undefined;
  }

  /**
   * Drops every general-interrogation entry: a new GI supersedes the earlier ones, so a later
   * rewind does not send stale ones (libiec61850 does the same).
   */
  dropGi(): void {
    const kept: BufferedEntry[] = [];
    let next = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      if (e.kind === 'general-interrogation') continue;
      kept.push(e);
      if (i < this.#next) next++;
    }
    this.#items = kept;
    this.#head = 0;
    this.#next = next;
  }

  /** Discards every entry (PurgeBuf, or a configuration change that invalidates them). */
  purge(): void {
    this.#items = [];
    this.#head = 0;
    this.#next = 0;
    this.overflow = false;
  }
}
