import { describe, expect, test } from 'vitest';
import { GROUP_DEFAULTS, type GroupConfig, type ProxyConfig, GROUP_EXTRA_DEFAULTS } from './config.js';
import { parseIec104mm2ssCsv } from './config-csv.js';
import { applyGroupEdit, exportCsv, exportYaml } from './config-edit.js';
import { parseProxyYaml } from './config-yaml.js';

const g: GroupConfig = {
  ...GROUP_DEFAULTS,
  id: 111,
  name: 'RTU-ABB',
  port: 2404,
  rtu: 32,
  hosts: [
    { host: '192.168.1.1', port: 2413 },
    { host: 'fd00::5', port: 2404 },
  ],
  filter: ['192.168.1.16', '127.0.0.0/24'],
  masters: [],
};
const config: ProxyConfig = {
  groups: [g, { ...g, id: 222, name: 'Dreez-SCS', port: 2405, logEvents: true, sameIp: 'new' }],
  ntpServers: ['pool.ntp.org'],
  ntpUpdateEverySec: 600,
  nogui: true,
};

describe('console edits', () => {
  test('an edit changes only what it names', () => {
    const r = applyGroupEdit(g, { filter: '10.0.0.0/8; 10.1.1.1', t1: 20, sameIp: 'old' });
    expect(r).toEqual({ ok: true, config: { ...g, filter: ['10.0.0.0/8', '10.1.1.1'], t1: 20, sameIp: 'old' } });
  });

  test('name, port and RTU number are editable; the port stays unique and the name at most 16 characters', () => {
    expect(applyGroupEdit(g, { name: 'NEW-NAME', port: 2410, rtu: 7 })).toEqual({
      ok: true,
      config: { ...g, name: 'NEW-NAME', port: 2410, rtu: 7 },
    });
    const taken = new Map([[2405, 222]]);
    expect(applyGroupEdit(g, { port: 2405 }, taken)).toEqual({
      ok: false,
      problems: [{ field: 'port', message: '2405 is already used by group 222' }],
    });
    expect(applyGroupEdit(g, { port: 2404 }, new Map([[2404, 111]]))).toMatchObject({ ok: true });
    expect(applyGroupEdit(g, { name: 'ABCDEFGHIJKLMNOPQ', rtu: 0, port: 70000 })).toMatchObject({
      ok: false,
      problems: [
        { field: 'name', message: "'ABCDEFGHIJKLMNOPQ' is longer than 16 characters" },
        { field: 'port', message: '70000 is not an integer in 1..65535' },
        { field: 'rtu', message: '0 is not an integer in 1..65535' },
      ],
    });
    expect(applyGroupEdit(g, { name: ' ' })).toMatchObject({ ok: false, problems: [{ field: 'name' }] });
  });

  test('every problem is named by field, and nothing is applied', () => {
    const r = applyGroupEdit(g, { hosts: '10.0.0.5', filter: '10.0.0.0/99', k: 0 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.field)).toEqual(['k', 'hosts', 'filter']);
    expect(r.problems[1]!.message).toMatch(/port is missing/);
    expect(applyGroupEdit(g, { t2: 15 })).toMatchObject({ ok: false, problems: [{ field: 't2' }] });
    expect(applyGroupEdit(g, { w: 13 })).toMatchObject({ ok: false, problems: [{ field: 'w' }] });
  });
});

describe('export', () => {
  test('CSV in the original format reads back to the same configuration', () => {
    const text = exportCsv(config);
    expect(text.split('\n')[0]).toMatch(/^iec104MM2SS-1port-v1\.0 ini file/);
    const back = parseIec104mm2ssCsv('export.csv', text);
    expect(back.rejected).toEqual([]);
    expect(back.config).toEqual(config);
  });

  test('YAML reads back to the same configuration, roles and capture included', () => {
    const withRoles: ProxyConfig = {
      ...config,
      groups: [{ ...g, masters: [{ address: '10.0.0.0/8', role: 'monitor' }], interrogationToAll: true, capture: 'cap/g.pcap' }],
    };
    const back = parseProxyYaml('export.yaml', exportYaml(withRoles));
    // YAML fills t0 and endOfInit, which a configuration read from CSV leaves unset.
    expect(back.config).toEqual({ ...withRoles, groups: withRoles.groups.map((x) => ({ ...x, ...GROUP_EXTRA_DEFAULTS })) });
    expect(exportCsv(withRoles)).toMatch(/# group 111 also has YAML-only settings/);
  });
});
