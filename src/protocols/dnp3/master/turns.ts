/**
 * Whose turn it is to have a request outstanding on a shared half-duplex channel (a multidrop
 * serial line): one transaction at a time across every outstation session on it, granted first
 * come, first served. Without it two sessions could each send a request and both outstations
 * would answer at once, colliding on the line. A session holds the turn from its request until
 * the response's final fragment or its timeout (select-before-operate holds it from SELECT to
 * OPERATE's response), so a dead outstation delays the others by its response timeout at most.
 *
 * The turn is handed over: releasing it gives it to the first session waiting and wakes that
 * session at once (synchronously, with the caller's time), so the next request leaves in the same
 * step as the last response arrived or timed out, whatever order the sessions are driven in.
 */
export class ChannelTurns {
  #holder: number | undefined;
  readonly #waiting: number[] = [];
  readonly #wake = new Map<number, (now: number) => void>();

  /** The session holding the turn, if any. */
  get holder(): number | undefined {
    return this.#holder;
  }

  /** Sessions waiting for the turn, first first. */
  get waiting(): readonly number[] {
    return this.#waiting;
  }

  /** Registers a session and what to call when the turn is handed to it. */
  join(session: number, wake: (now: number) => void): void {
    this.#wake.set(session, wake);
  }

  /** Takes the turn for `session` when it holds it or nobody does; otherwise queues it (once) and says no. */
  take(session: number): boolean {
    if (this.#holder === session) return true;
    if (this.#holder === undefined && this.#waiting.length === 0) {
      this.#holder = session;
      return true;
    }
    if (!this.#waiting.includes(session)) this.#waiting.push(session);
    return false;
  }

  /** Gives the turn back (the response is complete or timed out): the first waiting session gets it and is woken. */
  release(session: number, now: number): void {
    if (this.#holder !== session) return;
    this.#holder = this.#waiting.shift();
    if (this.#holder !== undefined) this.#wake.get(this.#holder)?.(now);
  }

  /** Forgets a session that ends: it leaves the queue and passes the turn on if it held it. */
  leave(session: number, now: number): void {
    this.#wake.delete(session);
    const i = this.#waiting.indexOf(session);
    if (i >= 0) this.#waiting.splice(i, 1);
    this.release(session, now);
  }
}
