import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { loadTase2ServerConfig, messagesOf, modelOf } from './config.js';

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
