/**
 * Structure components named end to end: gridgate's simulator serves the hand-written ICD over
 * loopback while tshark captures; the built CLI subscribes with `mms reports`, asking the IED for
 * the members' types (getVariableAccessAttributes) or not (`--no-ask-types`), and `mms decode` reads
 * each capture, naming from the type descriptions in it, or from `--scl` when it has none.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSclModel } from '../../src/apps/iec61850-sim/scl.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import { captureLoopback } from '../support/tshark.js';
import { runCli, tempDir } from './support.js';

const ICD = join(import.meta.dirname, '../fixtures/iec61850-sim.icd');
const RCB = 'SIMIEDLD0/LLN0$RP$EventsRCB01';
const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
/** Ind1 as a named value: false, good quality, a synchronised time stamp. */
const NAMED_IND1 = new RegExp(
  String.raw`  SIMIEDLD0/GGIO1\$ST\$Ind1 = \{stVal=false, q=good \('0000000000000'B\), t=${TIME} \(leap-seconds-known, accuracy 10 bits\)\}  reason general-interrogation \('0000010'B\)\n`,
);
const POSITIONAL_IND1 = new RegExp(
  String.raw`  SIMIEDLD0/GGIO1\$ST\$Ind1 = \{false, '0000000000000'B, ${TIME}\}  reason general-interrogation \('0000010'B\)  q good  t ${TIME} \(leap-seconds-known, accuracy 10 bits\)\n`,
);

/** Runs `mms reports` with `args` against the simulator. */
async function reports(sim: Iec61850Simulator, args: readonly string[]) {
  const live = await runCli([
    'mms',
    'reports',
    '--host',
    '127.0.0.1',
    '--port',
    String(sim.port),
    '--rcb',
    RCB,
    '--gi',
    '--count',
    '1',
    ...args,
  ]);
  expect(live.code, live.stderr).toBe(0);
  return live;
}

/** {@link reports} under tshark; returns its result and the capture file. */
async function session(sim: Iec61850Simulator, name: string, args: readonly string[]) {
  const file = join(tempDir('mms-names'), `${name}.pcapng`);
  const stop = await captureLoopback(sim.port, file);
  try {
    return { live: await reports(sim, args), file };
  } finally {
    await stop();
  }
}

describe('structure components named (simulator, tshark capture, built CLI)', () => {
  it('live from the IED and offline from the type descriptions in the capture; positional without a type source; from --scl', async () => {
    const sim = await Iec61850Simulator.start({ model: loadSclModel(ICD).model, host: '127.0.0.1', port: 0 });
    try {
      // Asking the IED (the default): names live, and the capture carries the descriptions.
      const asked = await session(sim, 'asked', []);
      expect(asked.live.stdout).toMatch(NAMED_IND1);
      expect(asked.live.stdout).toContain('  SIMIEDLD0/GGIO1$ST$Ind3$stVal = false  reason general-interrogation');
      const decoded = await runCli(['mms', 'decode', asked.file]);
      expect(decoded.code, decoded.stderr).toBe(0);
      expect(decoded.stdout).toMatch(/getVariableAccessAttributes \(invokeID \d+\) \(request frame \d+\)\n {2}SIMIEDLD0\/GGIO1\$ST\n/);
      expect(decoded.stdout).toContain('    Ind1\n      stVal  boolean\n      q  bit-string(<=13)\n      t  utc-time\n');
      expect(decoded.stdout).toMatch(NAMED_IND1);

      // JSON: the named object beside the positional value.
      const json = await reports(sim, ['--json']);
      const report = JSON.parse(json.stdout.split('\n')[0]!) as {
        entries: { reference: string; value: unknown; named?: Record<string, unknown> }[];
      };
      const ind1 = report.entries.find((e) => e.reference === 'SIMIEDLD0/GGIO1$ST$Ind1')!;
      expect(ind1.value).toEqual([false, '0000000000000', expect.any(String)]);
      expect(ind1.named).toMatchObject({ stVal: false, q: { bits: '0000000000000', validity: 'good' }, t: { time: expect.any(String) } });

      // No type source: positional, live and offline (no descriptions in this capture).
      const plain = await session(sim, 'plain', ['--no-ask-types']);
      expect(plain.live.stdout).toMatch(POSITIONAL_IND1);
      const offline = await runCli(['mms', 'decode', plain.file]);
      expect(offline.stdout).not.toMatch(/getVariableAccessAttributes \(invokeID/);
      expect(offline.stdout).toMatch(POSITIONAL_IND1);

      // The same capture named from the SCL file, and live from --scl without asking.
      const fromScl = await runCli(['mms', 'decode', plain.file, '--scl', ICD]);
      expect(fromScl.code, fromScl.stderr).toBe(0);
      expect(fromScl.stdout).toMatch(NAMED_IND1);
      expect((await reports(sim, ['--no-ask-types', '--scl', ICD])).stdout).toMatch(NAMED_IND1);

      // mms read asks too.
      const read = await runCli(['mms', 'read', '--host', '127.0.0.1', '--port', String(sim.port), '--ref', 'SIMIEDLD0/GGIO1$ST$Ind2']);
      expect(read.stdout).toMatch(
        new RegExp(String.raw`^SIMIEDLD0/GGIO1\$ST\$Ind2 = \{stVal=true, q=good \('0000000000000'B\), t=${TIME} \(`),
      );
    } finally {
      await sim.stop();
    }
  }, 120_000);
});
