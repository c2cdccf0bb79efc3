/**
 * Whose turn it is to have a request outstanding on a shared half-duplex channel (a multidrop
 * serial line): one transaction at a time across every outstation session on it, granted first
 * come, first served. Without it two sessions could each send a request and both outstations
 * would answer at once, colliding on the line. A session holds the turn from its request until
 * the response's final fragment or its timeout (select-before-operate holds it from SELECT to
 * OPERATE's response), so a dead outstation delays the others by its response timeout at most.
 */
export class ChannelTurns {
  #holder: number | undefined;
  readonly #waiting: number[] = [];

  /** The session holding the turn, if any. */
  get holder(): number | undefined {
    return this.#holder;
  }

  /** Sessions waiting for the turn, first first. */
  get waiting(): readonly number[] {
    return this.#waiting;
  }

  /**
   * Takes the turn for `session` when it is free and nobody waits before it; otherwise queues
   * `session` (once) and says no.
   */
  take(session: number): boolean {
    if (this.#holder === session) return true;
    const i = this.#waiting.indexOf(session);
    if (this.#holder === undefined && (this.#waiting.length === 0 || i === 0)) {
      if (i === 0) this.#waiting.shift();
      this.#holder = session;
      return true;
    }
    if (i < 0) this.#waiting.push(session);
    return false;
  }

  /** Gives the turn back (the response is complete or timed out). */
  release(session: number): void {
    if (this.#holder === session) this.#holder = undefined;
  }

  /** Forgets a session that ends: releases its turn and leaves the queue. */
  leave(session: number): void {
    this.release(session);
    const i = this.#waiting.indexOf(session);
    if (i >= 0) this.#waiting.splice(i, 1);
  }
}
