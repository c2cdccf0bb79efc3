/**
 * Link parameters of IEC 60870-5-104 clause 9.6 (timeouts in milliseconds) and gridgate's
 * send-queue bound.
 */
export interface LinkParams {
  /** k: most I frames sent and not yet acknowledged (1..32767). */
  readonly k: number;
  /** w: acknowledge at the latest after receiving this many I frames (1..32767, at most 2k/3 advised). */
  readonly w: number;
  /** t0: time-out of connection establishment. */
  readonly t0: number;
  /** t1: time-out of send or test APDUs; the connection closes when it expires. */
  readonly t1: number;
  /** t2: time-out for acknowledgement when no data is sent (t2 < t1). */
  readonly t2: number;
  /** t3: time-out for sending test frames on an idle link. */
  readonly t3: number;
  /**
   * ASDUs waiting for room in the k window (or for STARTDT on a controlled station). When full,
   * `send` refuses the new ASDU, counts it as `rejected` and reports `queue-full` to the caller:
   * what was already accepted is never dropped.
   */
  readonly maxQueue: number;
}

export const DEFAULT_LINK_PARAMS: LinkParams = Object.freeze({
  k: 12,
  w: 8,
  t0: 30_000,
  t1: 15_000,
  t2: 10_000,
  t3: 20_000,
  maxQueue: 10_000,
});

/** Problems with a parameter set, as `field: problem` strings; empty when valid. */
export function checkLinkParams(p: LinkParams): string[] {
  const problems: string[] = [];
  const int = (name: keyof LinkParams, min: number, max: number): void => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name}: ${String(v)} is outside ${min}..${max}`);
  };
  int('k', 1, 32767);
  int('w', 1, 32767);
  int('t0', 1, 255_000);
  int('t1', 1, 255_000);
  int('t2', 1, 255_000);
  int('t3', 1, 172_800_000);
  int('maxQueue', 1, 10_000_000);
  if (problems.length === 0) {
    if (p.w > p.k) problems.push(`w: ${p.w} must not exceed k (${p.k})`);
    if (p.t2 >= p.t1) problems.push(`t2: ${p.t2} ms must be less than t1 (${p.t1} ms)`);
  }
  return problems;
}
