import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { loadTase2ServerConfig, messagesOf, modelOf, stepValue } from './config.js';

function load(tables: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'gridgate-tase2-config-')), 'node.yaml');
  writeFileSync(
    file,
    `local: { apTitle: 1.3.9999.1 }
domains:
  ICC1:
    values: { Flow1: { type: RealQTimeTag, value: 1 } }
    devices: { Cmd1: { kind: Command } }
tables:
${tables}
`,
  );
  return { file, model: () => modelOf(loadTase2ServerConfig(file), 0) };
}

describe('tase2 server YAML: the blocks of a bilateral table', () => {
  it('are 1 and 2 by default, 1, 2 and 5 when the table names devices, and what the table lists when it lists them', () => {
    const { model } = load(`  - { id: A, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Flow1] }
  - { id: B, apTitle: 1.3.9999.3, domain: ICC1, dataValues: [Flow1], devices: [Cmd1] }
  - { id: C, apTitle: 1.3.9999.4, domain: ICC1, dataValues: [Flow1], blocks: [1, 2, 4] }`);
    expect(model().tables.map((t) => t.blocks)).toEqual([
      [1, 2],
      [1, 2, 5],
      [1, 2, 4],
    ]);
  });

  it('refuses a block gridgate does not serve, naming the file, line and field', () => {
    const { file } = load(`  - { id: A, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Flow1], blocks: [1, 3] }`);
    expect(() => loadTase2ServerConfig(file)).toThrow(ConfigError);
    expect(() => loadTase2ServerConfig(file)).toThrow(new RegExp(`${file}:\\d+ tables\\.0\\.blocks\\.1`));
  });
});

describe('tase2 server YAML: information messages', () => {
  const write = (messages: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'gridgate-tase2-config-')), 'node.yaml');
    writeFileSync(
      file,
      `local: { apTitle: 1.3.9999.1 }
domains: { ICC1: { values: {} } }
tables: [{ id: A, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [], blocks: [1, 2, 4] }]
messages:
${messages}
`,
    );
    return file;
  };

  it('gives text as UTF-8 and hex as octets, ICC scope and MessageId 1 unless told', () => {
    const c = loadTase2ServerConfig(write(`  - { text: 'Grüße' }\n  - { hex: 00ff, scope: VCC, messageId: 7, periodMs: 1000 }`));
    expect(messagesOf(c)).toEqual([
      { message: { infoReference: 0, localReference: 0, messageId: 1, scope: 'ICC', data: new TextEncoder().encode('Grüße') } },
      { message: { infoReference: 0, localReference: 0, messageId: 7, scope: 'VCC', data: Uint8Array.of(0, 255) }, periodMs: 1000 },
    ]);
  });

  it('refuses a message with both text and hex, or odd hex, naming where', () => {
    expect(() => loadTase2ServerConfig(write(`  - { text: a, hex: '00' }`))).toThrow(/messages\.0.*either text or hex/);
    expect(() => loadTase2ServerConfig(write(`  - { hex: '0f0' }`))).toThrow(/messages\.0\.hex.*pairs of hex digits/);
  });
});

describe('tase2 server YAML: Data_StateSupplemental points', () => {
  const write = (values: string, edition = '2000') => {
    const file = join(mkdtempSync(join(tmpdir(), 'gridgate-tase2-config-')), 'node.yaml');
    writeFileSync(
      file,
      `edition: '${edition}'
local: { apTitle: 1.3.9999.1 }
domains:
  ICC1:
    values:
${values}
tables: [{ id: A, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [] }]
`,
    );
    return file;
  };
  const now = Date.UTC(2026, 11, 7, 12, 0, 0, 345);
  const valuesOf = (file: string) => {
    const model = modelOf(loadTase2ServerConfig(file), now);
    return new Map(model.names('ICC1').map((n) => [n, model.get({ scope: 'domain', domainId: 'ICC1', itemId: n })]));
  };

  it('builds every layout from state, tag, expected state and the quality flags the type has', () => {
    const values = valuesOf(
      write(`      S0: { type: StateSupplemental, state: CLOSED, tag: CLOSE_ONLY_INHIBIT, expectedState: TRIPPED }
      S1: { type: StateSupplementalQ, state: TRIPPED, validity: SUSPECT, currentSource: ENTERED }
      S2: { type: StateSupplementalQTimeTag, state: CLOSED, tag: OPEN_AND_CLOSE_INHIBIT, normalValue: ABNORMAL }
      S3: { type: StateSupplementalExtended, state: INVALID, timeStampQuality: INVALID }
      S4: { type: StateSupplementalQTimeTagExtended, state: CLOSED, expectedState: CLOSED }`),
    );
    const quality = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' };
    expect(Object.fromEntries(values)).toEqual({
      S0: { kind: 'StateSupplemental', value: { state: 'CLOSED', tag: 'CLOSE_ONLY_INHIBIT', expectedState: 'TRIPPED' } },
      S1: {
        kind: 'StateSupplementalQ',
        value: { state: 'TRIPPED', tag: 'NO_TAG', expectedState: 'TRIPPED' },
        flags: { ...quality, validity: 'SUSPECT', currentSource: 'ENTERED' },
      },
      S2: {
        kind: 'StateSupplementalQTimeTag',
        value: { state: 'CLOSED', tag: 'OPEN_AND_CLOSE_INHIBIT', expectedState: 'CLOSED' },
        timeStamp: Date.UTC(2026, 11, 7, 12),
        flags: { ...quality, normalValue: 'ABNORMAL' },
      },
      S3: {
        kind: 'StateSupplementalExtended',
        value: { state: 'INVALID', tag: 'NO_TAG', expectedState: 'INVALID' },
        timeStamp: Date.UTC(2026, 11, 7, 12),
        flags: { ...quality, timeStampQuality: 'INVALID' },
        cov: 0,
      },
      S4: {
        kind: 'StateSupplementalQTimeTagExtended',
        value: { state: 'CLOSED', tag: 'NO_TAG', expectedState: 'CLOSED' },
        timeStamp: Date.UTC(2026, 11, 7, 12),
        flags: quality,
      },
    });
  });

  it('defaults to state BETWEEN, NO_TAG, the expected state equal to the state, quality VALID', () => {
    const values = valuesOf(write(`      S: { type: StateSupplementalQ }`));
    expect(values.get('S')).toEqual({
      kind: 'StateSupplementalQ',
      value: { state: 'BETWEEN', tag: 'NO_TAG', expectedState: 'BETWEEN' },
      flags: { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' },
    });
  });

  it('refuses a name outside a field table, a field the type does not have and an unknown field, naming file, line and field', () => {
    const badTag = write(`      S: { type: StateSupplementalQ, state: CLOSED }\n      T: { type: StateSupplementalQ, tag: CLOSED }`);
    expect(() => loadTase2ServerConfig(badTag)).toThrow(new RegExp(`${badTag}:7 domains\\.ICC1\\.values\\.T\\.tag`));
    const noFlags = write(`      S: { type: StateSupplemental, validity: HELD }`);
    expect(() => loadTase2ServerConfig(noFlags)).toThrow(
      new RegExp(
        `${noFlags}:6 domains\\.ICC1\\.values\\.S\\.validity: a StateSupplemental point has no validity \\(it takes state, tag, expectedState\\)`,
      ),
    );
    const noTag = write(`      B: { type: StateQTimeTag, tag: NO_TAG }`);
    expect(() => loadTase2ServerConfig(noTag)).toThrow(/:6 domains\.ICC1\.values\.B\.tag: a StateQTimeTag point has no tag/);
    const typo = write(`      S: { type: StateSupplementalQ, expected: CLOSED }`);
    expect(() => loadTase2ServerConfig(typo)).toThrow(ConfigError);
    expect(() => loadTase2ServerConfig(typo)).toThrow(new RegExp(`${typo}:6 domains\\.ICC1\\.values\\.S.*expected`));
  });

  it('refuses a 2000-edition type in a 1996 model instead of dropping the point', () => {
    const file = write(`      S: { type: StateSupplementalQTimeTag }`, '1996');
    expect(() => loadTase2ServerConfig(file)).toThrow(
      new RegExp(`${file}:6 domains\\.ICC1\\.values\\.S\\.type: StateSupplementalQTimeTag does not exist in the 1996 edition`),
    );
  });

  it('toggles the state on the schedule, keeping the tag and expected state, and stamps the time', () => {
    const v = valuesOf(write(`      S: { type: StateSupplementalExtended, state: CLOSED, tag: CLOSE_ONLY_INHIBIT }`)).get('S')!;
    const once = stepValue(v, 1, now + 5000);
    expect(once).toMatchObject({
      value: { state: 'TRIPPED', tag: 'CLOSE_ONLY_INHIBIT', expectedState: 'CLOSED' },
      timeStamp: Date.UTC(2026, 11, 7, 12, 0, 5),
      cov: 1,
    });
    expect(stepValue(once, 1, now + 6000)).toMatchObject({
      value: { state: 'CLOSED', tag: 'CLOSE_ONLY_INHIBIT', expectedState: 'CLOSED' },
      cov: 2,
    });
  });
});
