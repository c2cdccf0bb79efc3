/**
 * Information messages (block 4) from the command line: `gridgate tase2 server` sends what its YAML
 * `messages:` and `--message` give, only to a peer that enabled them; `gridgate tase2 client
 * --messages` enables them and shows each with its header fields named, printable text as text and
 * other octets as hex, in ICC and VCC scope. A table without block 4 refuses the client.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, startCli, tempDir, until } from './support.js';

const MODEL = `
local: { apTitle: 1.3.9999.1 }
domains:
  ICC1:
    values: { Flow1: { type: RealQTimeTag, value: 1 } }
tables:
  - { id: BLT-1, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Flow1], blocks: [1, 2, 4] }
  - { id: BLT-2, apTitle: 1.3.9999.3, domain: ICC1, dataValues: [Flow1] }
messages:
  - { hex: 00ff01, infoReference: 9, localReference: 4, messageId: 100, scope: VCC, periodMs: 200 }
`;

describe('gridgate tase2 server messages / client --messages', () => {
  let server: Awaited<ReturnType<typeof startCli>>;
  let port = 0;
  beforeAll(async () => {
    const file = join(tempDir('tase2-messages'), 'node.yaml');
    writeFileSync(file, MODEL);
    server = await startCli(
      ['tase2', 'server', '--config', file, '--listen', '127.0.0.1:0', '--message', 'line 4 out at 14:00', '--json'],
      /"listening"/,
    );
    port = (JSON.parse(server.line) as { port: number }).port;
  });
  afterAll(() => server.child.kill('SIGTERM'));

  const client = (title: string, ...more: string[]) =>
    runCli([
      'tase2',
      'client',
      '--connect',
      `127.0.0.1:${port}`,
      '--local-ap-title',
      title,
      '--remote-ap-title',
      '1.3.9999.1',
      '--domain',
      'ICC1',
      ...more,
    ]);

  it('the client enables them and shows each: the flag message once, the scheduled one repeated, fields named', async () => {
    const r = await client('1.3.9999.2', '--messages', '--count', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const messages = jsonLines(r.stdout).filter((l) => l['event'] === 'message');
    expect(messages).toHaveLength(3);
    expect(messages).toContainEqual({
      event: 'message',
      messageId: 1,
      infoReference: 0,
      localReference: 0,
      size: 19,
      scope: 'ICC',
      domain: 'ICC1',
      text: 'line 4 out at 14:00',
    });
    const scheduled = messages.filter((m) => m['scope'] === 'VCC');
    expect(scheduled.length).toBeGreaterThanOrEqual(2);
    expect(scheduled[0]).toMatchObject({ infoReference: 9, localReference: 4, size: 3, hex: '00ff01' });
    // Each sending is a new instance: the MessageIds count up.
    const ids = scheduled.map((m) => m['messageId'] as number);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    await until(() => server.output().includes('"event":"message-sent"'), 5000, 'the server printed the sending');
  });

  it('shows a message as text for people', async () => {
    const r = await client('1.3.9999.2', '--messages', '--count', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/message \d+ \(InfoReference 0, LocalReference 0, ICC ICC1, 19 octets\): "line 4 out at 14:00"/);
    expect(r.stdout).toMatch(/message \d+ \(InfoReference 9, LocalReference 4, VCC, 3 octets\): '00ff01'H/);
  });

  it('a peer whose table lacks block 4 cannot enable them: exit 5 naming the refusal', async () => {
    const r = await client('1.3.9999.3', '--messages', '--count', '1');
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('IM_Transfer_Set: object-access-denied');
  });
});
