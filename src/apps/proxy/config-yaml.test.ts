import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../core/errors.js';
import { GROUP_DEFAULTS, GROUP_EXTRA_DEFAULTS } from './config.js';
import { loadProxyConfig } from './config-load.js';
import { parseProxyYaml } from './config-yaml.js';

const F = 'proxy.yaml';

const VALID = `ntpServers: [pool.ntp.org, 10.0.0.1]
ntpUpdateEverySec: 600
nogui: true
groups:
  - id: 1
    name: SUB-A
    port: 2404
    rtu: 32
    hosts: ["10.0.0.5:2404", "10.0.0.6:2404"]
    filter: [10.0.0.0/8]
    maxConnections: 3
    idleTime: 90
    t1: 20
    t2: 8
    t3: 30
    w: 4
    k: 10
    buffSize: 500
    logEvents: true
    sameIp: new
    masters: [{ address: 10.1.1.5, role: monitor }, { address: 10.2.0.0/16, role: control }]
    interrogationToAll: true
    capture: captures/sub-a.pcap
  - id: 2
    name: SUB-B
    port: 2405
    rtu: 33
    hosts:
      - "[fd00::7]:2404"
      - rtu-b.example.net:2404
`;

/** The formatted issues of a file that must not load. */
function problems(text: string): string[] {
  try {
    parseProxyYaml(F, text);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatConfigIssue);
    throw err;
  }
  throw new Error('the file loaded');
}

/** One group with `extra` lines appended (indented under it). */
const oneGroup = (...extra: string[]) =>
  [
    'groups:',
    '  - id: 1',
    '    name: A',
    '    port: 2404',
    '    rtu: 1',
    '    hosts: [10.0.0.1:2404]',
    ...extra.map((l) => `    ${l}`),
  ].join('\n');

describe('a valid YAML file', () => {
  it('loads every field', () => {
    const { config, rejected, notes } = parseProxyYaml(F, VALID);
    expect(rejected).toEqual([]);
    expect(notes).toEqual([]);
    expect(config).toMatchObject({ ntpServers: ['pool.ntp.org', '10.0.0.1'], ntpUpdateEverySec: 600, nogui: true });
    expect(config.groups[0]).toEqual({
      id: 1,
      name: 'SUB-A',
      port: 2404,
      rtu: 32,
      maxConnections: 3,
      idleTime: 90,
      t1: 20,
      t2: 8,
      t3: 30,
      w: 4,
      k: 10,
      buffSize: 500,
      logEvents: true,
      sameIp: 'new',
      hosts: [
        { host: '10.0.0.5', port: 2404 },
        { host: '10.0.0.6', port: 2404 },
      ],
      filter: ['10.0.0.0/8'],
      masters: [
        { address: '10.1.1.5', role: 'monitor' },
        { address: '10.2.0.0/16', role: 'control' },
      ],
      interrogationToAll: true,
      t0: 3,
      endOfInit: true,
      capture: 'captures/sub-a.pcap',
    });
  });

  it('fills the defaults', () => {
    const { config } = parseProxyYaml(F, VALID);
    const { maxConnections, idleTime, t1, t2, t3, w, k, buffSize, logEvents, sameIp, interrogationToAll } = GROUP_DEFAULTS;
    const { t0, endOfInit } = GROUP_EXTRA_DEFAULTS;
    expect(config.groups[1]).toEqual({
      id: 2,
      name: 'SUB-B',
      port: 2405,
      rtu: 33,
      ...{ maxConnections, idleTime, t0, t1, t2, t3, w, k, buffSize, logEvents, sameIp, interrogationToAll, endOfInit },
      hosts: [
        { host: 'fd00::7', port: 2404 },
        { host: 'rtu-b.example.net', port: 2404 },
      ],
      filter: [],
      masters: [],
    });
    expect(parseProxyYaml(F, oneGroup()).config).toMatchObject({ ntpServers: [], ntpUpdateEverySec: 900, nogui: false });
  });

  it('accepts merge keys for shared settings, and locates problems in merged groups', () => {
    const text = [
      'groups:',
      '  - &first { id: 1, name: A, port: 2404, rtu: 1, t1: 30, t2: 20, hosts: [10.0.0.1:2404] }',
      '  - { <<: *first, id: 2, name: B, port: 2405 }',
      '  - { <<: *first, id: 3, name: C, port: 2406, t2: 40 }',
    ].join('\n');
    expect(problems(text)).toEqual([`${F}:4 groups.2.t2: 40 s must be less than t1 (30 s)`]);
    const { config } = parseProxyYaml(F, text.replace(', t2: 40', ''));
    expect(config.groups.map((g) => [g.id, g.port, g.t1, g.t2, g.hosts[0]?.host])).toEqual([
      [1, 2404, 30, 20, '10.0.0.1'],
      [2, 2405, 30, 20, '10.0.0.1'],
      [3, 2406, 30, 20, '10.0.0.1'],
    ]);
  });

  it('cuts a name to 16 characters with a note', () => {
    const { config, notes } = parseProxyYaml(F, oneGroup().replace('name: A', 'name: ABCDEFGHIJKLMNOPQRST'));
    expect(config.groups[0]?.name).toBe('ABCDEFGHIJKLMNOP');
    expect(notes.map(formatConfigIssue)).toEqual([`${F}:3 groups.0.name: 'ABCDEFGHIJKLMNOPQRST' cut to 16 characters: 'ABCDEFGHIJKLMNOP'`]);
  });
});

describe('invalid YAML files', () => {
  it('names unknown keys on their own line, with the key meant', () => {
    expect(problems(oneGroup('buffsize: 10', 'colour: red') + '\nntp_server: [a]')).toEqual([
      `${F}:7 groups.0.buffsize: unknown key 'buffsize'; did you mean 'buffSize'?`,
      `${F}:8 groups.0.colour: unknown key 'colour'`,
      `${F}:9 ntp_server: unknown key 'ntp_server'; did you mean 'ntpServers'?`,
    ]);
  });

  it('reports ranges, types and missing fields with lines', () => {
    const text = [
      'groups:',
      '  - id: 1',
      '    port: 99999',
      '    rtu: x',
      '    hosts: [10.0.0.1:2404]',
      '    t1: 2.5',
      '    logEvents: Y',
    ].join('\n');
    expect(problems(text)).toEqual([
      `${F}:2 groups.0.name: is required`,
      `${F}:3 groups.0.port: 99999 is outside 1..65535`,
      `${F}:4 groups.0.rtu: 'x' is not a number`,
      `${F}:6 groups.0.t1: 2.5 is not a whole number`,
      `${F}:7 groups.0.logEvents: 'Y' is not true or false`,
    ]);
  });

  it('rejects hosts without a port, and bad filters, masters and NTP servers', () => {
    const text = oneGroup(
      'filter: [10.0.0.0/33]',
      'masters:',
      '  - { address: 10.1.1.5, role: boss }',
      '  - { address: everyone, role: control }',
    ).replace('[10.0.0.1:2404]', '["hosts=192.168.1.1", "10.0.0.2:2404"]');
    expect(problems(`ntpServers: ["time server"]\n${text}`)).toEqual([
      `${F}:1 ntpServers.0: 'time server' is not a host name or IP address`,
      `${F}:7 groups.0.hosts.0: 'hosts=192.168.1.1' is not IP:PORT (the port is missing)`,
      `${F}:8 groups.0.filter.0: '10.0.0.0/33' has an invalid prefix length`,
      `${F}:10 groups.0.masters.0.role: 'boss' is not control or monitor`,
      `${F}:11 groups.0.masters.1.address: 'everyone' is not an IP address or CIDR block`,
    ]);
    expect(problems(oneGroup().replace('[10.0.0.1:2404]', '[]'))).toEqual([`${F}:6 groups.0.hosts: is empty; give at least one IP:PORT`]);
  });

  it('checks t2 < t1, w <= k and buffSize >= k', () => {
    expect(problems(oneGroup('t2: 15'))).toEqual([`${F}:7 groups.0.t2: 15 s must be less than t1 (15 s)`]);
    expect(problems(oneGroup('w: 13'))).toEqual([`${F}:7 groups.0.w: 13 must not exceed k (12)`]);
    expect(problems(oneGroup('k: 20', 'buffSize: 19'))).toEqual([`${F}:8 groups.0.buffSize: 19 must be at least k (20)`]);
  });

  it('rejects a duplicate id or port, naming the earlier group and line', () => {
    const second = ['  - id: 1', '    name: B', '    port: 2404', '    rtu: 2', '    hosts: [10.0.0.2:2404]'];
    expect(problems([oneGroup(), ...second].join('\n'))).toEqual([
      `${F}:7 groups.1.id: 1 is already used by groups.0 (line 2)`,
      `${F}:9 groups.1.port: 2404 is already used by groups.0 (line 2)`,
    ]);
  });

  it('reports syntax errors, duplicate keys, empty files and files without groups', () => {
    expect(problems('groups: [\n')).toEqual([`${F}:2: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
    expect(problems(oneGroup('port: 2405'))).toEqual([`${F}:7: Map keys must be unique`]);
    expect(problems('')).toEqual([`${F}: the file is empty; it needs at least \`groups:\``]);
    expect(problems('- a\n- b\n')).toEqual([`${F}:1: the file holds ["a","b"], not a mapping with groups`]);
    expect(problems('nogui: true\n')).toEqual([`${F}:1 groups: is required`]);
    expect(problems('groups: []\n')).toEqual([`${F}:1 groups: is empty; the proxy needs at least one group`]);
  });
});

describe('loadProxyConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-proxy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads .yaml and .yml as YAML, and anything else as IEC104MM2SS CSV', () => {
    for (const name of ['p.yaml', 'p.YML']) {
      writeFileSync(join(dir, name), VALID);
      expect(loadProxyConfig(join(dir, name)).config.groups).toHaveLength(2);
    }
    writeFileSync(join(dir, 'p.ini'), '1,A,2404,1,,,,,,,,,,,10.0.0.1:2404\n');
    expect(loadProxyConfig(join(dir, 'p.ini')).config.groups).toHaveLength(1);
  });

  it('throws a ConfigError naming a missing file, and names the file in YAML problems', () => {
    const missing = join(dir, 'missing.yaml');
    let error: unknown;
    try {
      loadProxyConfig(missing);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('E_CONFIG');
    expect((error as ConfigError).issues).toEqual([{ file: missing, message: 'cannot read file (ENOENT)' }]);
    writeFileSync(join(dir, 'bad.yaml'), oneGroup('w: 0'));
    expect(() => loadProxyConfig(join(dir, 'bad.yaml'))).toThrow(`${join(dir, 'bad.yaml')}:7 groups.0.w: 0 is outside 1..32767`);
  });
});
