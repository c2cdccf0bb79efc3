/**
 * `gridgate iec61850-sim --scl` (built CLI) on the hand-written ICD fixture: the IED's domain and
 * blocks announced, what was left out warned about, a BRCB and a data set directory read over MMS.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsClient } from '../../src/apps/mms/client.js';
import { rcbFromMmsStructure } from '../../src/protocols/iec61850/rcb.js';
import { CLI, until } from './support.js';

const ICD = join(import.meta.dirname, '../fixtures/iec61850-sim.icd');
const D = (itemId: string) => ({ scope: 'domain' as const, domainId: 'SIMIEDLD0', itemId });

describe('gridgate iec61850-sim --scl (built CLI)', () => {
  it('serves the IED of an ICD file: report control blocks and data sets as the SCL describes them', async () => {
    // Spawned here rather than with startCli, to keep standard error from its first octet: the warnings come before listening.
    const child = spawn(process.execPath, [CLI, 'iec61850-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--scl', ICD]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until(() => stdout.includes('"listening"'), 10_000, 'listening');
    const line = stdout.split('\n').find((l) => l.includes('"listening"'))!;
    const up = JSON.parse(line) as { ied: string; port: number; domains: string[]; reportControls: string[] };
    expect(up.ied).toBe('SIMIED');
    expect(up.domains).toEqual(['SIMIEDLD0']);
    expect(up.reportControls).toEqual([
      'SIMIEDLD0/LLN0$RP$EventsRCB01',
      'SIMIEDLD0/LLN0$RP$EventsRCB02',
      'SIMIEDLD0/LLN0$BR$EventsBRCB01',
      'SIMIEDLD0/LLN0$BR$EventsBRCB02',
      'SIMIEDLD0/LLN0$RP$MeasRCB',
    ]);

    const mms = await MmsClient.connect({ host: '127.0.0.1', port: up.port });
    const [r] = await mms.read([D('LLN0$BR$EventsBRCB02')]);
    if (r?.success !== true) throw new Error(`read EventsBRCB02: ${JSON.stringify(r)}`);
    const rcb = rcbFromMmsStructure(r.data, 'BRCB');
    if (!rcb.ok) throw new Error(rcb.reason);
    expect(rcb.value).toMatchObject({ rptId: 'EventsBuffered', rptEna: false, datSet: 'SIMIEDLD0/LLN0$Events', confRev: 3, bufTm: 100 });
    const [m] = await mms.read([D('LLN0$RP$MeasRCB')]);
    const meas = m?.success === true ? rcbFromMmsStructure(m.data, 'URCB') : undefined;
    expect(meas?.ok === true && meas.value).toMatchObject({
      rptId: '',
      intgPd: 5000,
      datSet: 'SIMIEDLD0/LLN0$Measurements',
    });
    expect(await mms.getNameList('namedVariableList', { kind: 'domain', domainId: 'SIMIEDLD0' })).toEqual([
      'LLN0$Events',
      'LLN0$Measurements',
    ]);
    expect((await mms.getNamedVariableListAttributes(D('LLN0$Events'))).map((v) => v.name)).toEqual(
      ['GGIO1$ST$Ind1', 'GGIO1$ST$Ind2', 'GGIO1$ST$Ind3$stVal', 'GGIO1$ST$Ind4', 'LLN0$ST$Health'].map(D),
    );
    const [totW] = await mms.read([D('MMXU1$MX$TotW$mag$f')]);
    expect(totW).toMatchObject({ success: true, data: { type: 'floating-point', value: 1250.5 } });
    await mms.release();

    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const warnings = stderr.split('\n').filter((l) => l.includes('"event":"scl-skipped"'));
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/iec61850-sim\.icd:\d+ IED\[SIMIED\]\/LDevice\[LD0\]\/GGIO1\.Cnt1: data object of CDC BCR left out/);
  });
});
