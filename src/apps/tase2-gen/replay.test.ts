import { describe, expect, it } from 'vitest';
import { LinkLedger, ReplayLog } from './replay.js';

/** A link whose collector acknowledges `acks` of the reports it is sent. */
class FakeLink {
  readonly ledger = new LinkLedger();
  reporting = true;
  /** One report per round, acknowledged at once unless `holding`. */
  holding = false;

  sendRound(): void {
    if (!this.reporting) return;
    this.ledger.reported();
    if (!this.holding) this.ledger.acknowledged();
  }

  /** The collector dies: its association ends with reports unacknowledged. */
  lose(): void {
    this.reporting = false;
    this.ledger.reset();
  }
}

/** Runs rounds t0, t0+1000, …: each start, then each link sends the round's report. */
function run(log: ReplayLog, links: FakeLink[], rounds: number, from: number, lag = 1) {
  const replays: number[][] = [];
  for (let i = 0; i < rounds; i++) {
    const t = from + i * 1000;
    const s = log.start(
      t,
      [t],
      links.map((l) => ({ ledger: l.ledger, reporting: l.reporting })),
      lag,
    );
    replays.push(s.replay.map((r) => r.time));
    for (const l of links) l.sendRound();
  }
  return replays;
}

describe('replay ledger of a PUSH node', () => {
  it('a link acknowledging everything confirms every round a round later: nothing is sent again', () => {
    const log = new ReplayLog();
    const link = new FakeLink();
    const replays = run(log, [link], 50, 0);
    expect(replays.flat()).toEqual([]);
    expect(log.waiting).toBeLessThanOrEqual(2);
  });

  it('rounds before the first association are sent when the link starts reporting', () => {
    const log = new ReplayLog();
    const link = new FakeLink();
    link.reporting = false;
    run(log, [link], 3, 0);
    link.reporting = true;
    const [first] = run(log, [link], 1, 3000);
    expect(first).toEqual([0, 1000, 2000]);
  });

  it('after a collector dies with reports unacknowledged, the next association gets them again, oldest first', () => {
    const log = new ReplayLog();
    const link = new FakeLink();
    run(log, [link], 5, 0);
    link.holding = true; // the collector receives but dies before committing rounds 5000 and 6000
    run(log, [link], 2, 5000);
    link.lose();
    run(log, [link], 2, 7000); // reconnecting: rounds 7000 and 8000 reach nobody
    link.reporting = true;
    link.holding = false;
    const [again] = run(log, [link], 1, 9000);
    expect(again).toEqual([5000, 6000, 7000, 8000]);
    // Confirmed with the round that carried them: nothing is sent twice more.
    expect(run(log, [link], 5, 10_000).flat()).toEqual([]);
    expect(log.waiting).toBeLessThanOrEqual(2);
  });

  it('with two paths, the surviving one confirms the rounds: the lost path is not replayed', () => {
    const log = new ReplayLog();
    const [a, b] = [new FakeLink(), new FakeLink()];
    run(log, [a, b], 5, 0);
    a.holding = true;
    run(log, [a, b], 2, 5000);
    a.lose();
    run(log, [a, b], 2, 7000);
    a.reporting = true;
    a.holding = false;
    const [again] = run(log, [a, b], 1, 9000);
    expect(again).toEqual([]);
  });

  it('a gap in the acknowledgements makes the link start afresh and send the unconfirmed rounds', () => {
    const log = new ReplayLog();
    const link = new FakeLink();
    run(log, [link], 3, 0);
    link.holding = true;
    run(log, [link], 1, 3000);
    link.ledger.reset(); // an ACK timed out
    link.holding = false;
    const [again] = run(log, [link], 1, 4000);
    expect(again).toEqual([3000]);
  });

  it('keeps at most maxRounds rounds and counts the values it gives up', () => {
    const log = new ReplayLog(10);
    const link = new FakeLink();
    link.reporting = false;
    let dropped = 0;
    for (let i = 0; i < 25; i++) dropped += log.start(i, [i, i], [{ ledger: link.ledger, reporting: false }], 1).dropped;
    expect(log.waiting).toBe(10);
    expect(dropped).toBe(15 * 2);
    const s = log.start(25, [25, 25], [{ ledger: link.ledger, reporting: true }], 1);
    expect(s.replay.map((r) => r.time)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  });
});
