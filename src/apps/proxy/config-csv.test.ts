import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../core/errors.js';
import { GROUP_DEFAULTS } from './config.js';
import { parseHostPort, parseIec104mm2ssCsv } from './config-csv.js';
import { loadProxyConfig } from './config-load.js';

const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/iec104mm2ss.csv', import.meta.url));
const F = 'p.csv';

/** A valid group row; `over` replaces columns by index. */
function row(over: Readonly<Record<number, string>> = {}): string {
  const cols = ['1', 'SUB', '2404', '32', '2', '60', '15', '10', '20', '8', '12', '1000', 'Y', 'all', '10.0.0.1:2404', '10.0.0.0/8'];
  for (const [i, v] of Object.entries(over)) cols[Number(i)] = v;
  return cols.join(',');
}
const load = (...lines: string[]) => parseIec104mm2ssCsv(F, lines.join('\n'));
const loadStrict = (...lines: string[]) => parseIec104mm2ssCsv(F, lines.join('\n'), { strict: true });
const formatted = (issues: readonly Parameters<typeof formatConfigIssue>[0][]) => issues.map(formatConfigIssue);

describe('the original IEC104MM2SS sample file', () => {
  it('loads groups 111 and 222, the NTP options, and notes rows 444 and 555 after the end marker', () => {
    const { config, rejected, warnings, notes } = parseIec104mm2ssCsv('iec104mm2ss.csv', readFileSync(SAMPLE, 'utf8'));
    expect(rejected).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config.nogui).toBe(false);
    expect(config.ntpServers).toEqual(['10.1.1.15', 'time.windows.com', 'pool.ntp.org']);
    expect(config.ntpUpdateEverySec).toBe(900);
    expect(config.groups.map((g) => g.id)).toEqual([111, 222]);
    expect(config.groups[0]).toEqual({
      id: 111,
      name: 'RTU-ABB',
      port: 2404,
      rtu: 32,
      maxConnections: 2,
      idleTime: 60,
      t1: 15,
      t2: 10,
      t3: 20,
      w: 8,
      k: 12,
      buffSize: 1000,
      logEvents: true,
      sameIp: 'all',
      hosts: [
        { host: '192.168.1.1', port: 2413 },
        { host: '192.168.1.1', port: 2414 },
        { host: '192.168.1.1', port: 2415 },
        { host: '127.0.0.1', port: 2410 },
      ],
      filter: ['192.168.1.16', '127.0.0.0/24', '10.1.1.0/24'],
      masters: [],
      interrogationToAll: false,
    });
    expect(config.groups[1]).toMatchObject({ id: 222, name: 'Dreez-SCS', port: 2405, rtu: 101, sameIp: 'new', logEvents: true });
    expect(config.groups[1]?.hosts).toHaveLength(4);
    const rejectedToo = "; it would also be rejected: hosts: '192.168.1.16' is not IP:PORT (the port is missing)";
    expect(notes).toEqual([
      { file: 'iec104mm2ss.csv', line: 48, message: `not loaded: after the end marker '!' on line 47${rejectedToo}` },
      { file: 'iec104mm2ss.csv', line: 49, message: `not loaded: after the end marker '!' on line 47${rejectedToo}` },
    ]);
  });

  it('is the same through loadProxyConfig', () => {
    expect(loadProxyConfig(SAMPLE)).toEqual(parseIec104mm2ssCsv(SAMPLE, readFileSync(SAMPLE, 'utf8')));
  });
});

describe('group rows', () => {
  it('reads a valid row, and empty numeric columns take the defaults', () => {
    const { config, rejected } = load(
      row(),
      row({ 0: '2', 2: '2405', 4: '', 5: '', 6: '', 7: '', 8: '', 9: '', 10: '', 11: '', 12: '', 13: '' }),
    );
    expect(rejected).toEqual([]);
    const { maxConnections, idleTime, t1, t2, t3, w, k, buffSize, logEvents, sameIp } = GROUP_DEFAULTS;
    expect(config.groups[1]).toMatchObject({ maxConnections, idleTime, t1, t2, t3, w, k, buffSize, logEvents, sameIp });
  });

  it.each([
    [{ 1: '' }, 'sys name', /is empty/],
    [{ 2: '' }, 'port no', /is empty; a value in 1\.\.65535 is required/],
    [{ 2: '0' }, 'port no', /0 is outside 1\.\.65535/],
    [{ 2: '65536' }, 'port no', /65536 is outside 1\.\.65535/],
    [{ 2: '24o4' }, 'port no', /'24o4' is not a whole number/],
    [{ 3: '0' }, 'rtu no', /0 is outside 1\.\.65535/],
    [{ 3: '65536' }, 'rtu no', /outside/],
    [{ 3: '' }, 'rtu no', /is empty/],
    [{ 4: '0' }, 'max conn', /0 is outside 1\.\./],
    [{ 5: '0' }, 'idletime', /0 is outside 1\.\./],
    [{ 5: '1.5' }, 'idletime', /'1\.5' is not a whole number/],
    [{ 6: '0' }, 't1', /outside 1\.\.255/],
    [{ 6: '256' }, 't1', /256 is outside 1\.\.255/],
    [{ 7: '15' }, 't2', /15 s must be less than t1 \(15 s\)/],
    [{ 8: '0' }, 't3', /outside/],
    [{ 9: '0' }, 'w', /outside 1\.\.32767/],
    [{ 9: '13' }, 'w', /13 must not exceed k \(12\)/],
    [{ 10: '32768' }, 'k', /32768 is outside 1\.\.32767/],
    [{ 11: '11' }, 'buffsize', /11 must be at least k \(12\)/],
    [{ 12: 'yes' }, 'logevents', /'yes' is not Y or N/],
    [{ 13: 'both' }, 'same ip', /'both' is not all, new or old/],
    [{ 14: 'hosts=192.168.1.1' }, 'hosts', /'hosts=192\.168\.1\.1' is not IP:PORT \(the port is missing\)/],
    [{ 14: '192.168.1.1' }, 'hosts', /'192\.168\.1\.1' is not IP:PORT/],
    [{ 14: '10.0.0.1:2404;10.0.0.2' }, 'hosts', /'10\.0\.0\.2' is not IP:PORT/],
    [{ 14: '10.0.0.1:0' }, 'hosts', /has port '0'; a port is 1\.\.65535/],
    [{ 14: '10.0.0.1:' }, 'hosts', /has port ''/],
    [{ 14: ':2404' }, 'hosts', /the host is missing/],
    [{ 14: '300.1.1.1:2404' }, 'hosts', /'300\.1\.1\.1' .* is not an IPv4 address or host name/],
    [{ 14: 'fe80::1:2404' }, 'hosts', /brackets/],
    [{ 14: '[10.0.0.1]:2404' }, 'hosts', /is not an IPv6 address/],
    [{ 14: '[::1]2404' }, 'hosts', /is not \[IPv6\]:PORT/],
    [{ 14: ' ; ' }, 'hosts', /is empty/],
    [{ 15: '10.0.0.0/33' }, 'filter', /'10\.0\.0\.0\/33' has an invalid prefix length/],
    [{ 15: '10.0.0.1;masters' }, 'filter', /'masters' is not an IP address or CIDR block/],
    [{ 0: '-5' }, 'id', /'-5' is not a whole number/],
    [{ 0: '1.5' }, 'id', /'1\.5' is not a whole number/],
  ])('strict: rejects %o as %s, with the line, and loads the other rows', (over, field, message) => {
    const { config, rejected } = loadStrict('# comment', row({ 0: '7', 2: '2000' }), row(over), row({ 0: '8', 2: '2001' }));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ file: F, line: 3, field });
    expect(rejected[0]?.message).toMatch(message);
    expect(config.groups.map((g) => g.id)).toEqual([7, 8]);
  });

  it('rejects a duplicate id or port, naming the earlier line', () => {
    const { config, rejected } = load(row(), row({ 2: '2405' }), row({ 0: '2' }), row({ 0: '3', 2: '2406' }));
    expect(formatted(rejected)).toEqual([
      `${F}:2 id: 1 is already used on line 1`,
      `${F}:3 port no: 2404 is already used by group 1 on line 1`,
    ]);
    expect(config.groups.map((g) => g.id)).toEqual([1, 3]);
  });

  it('a rejected row does not reserve its id or port', () => {
    const { config } = load(row({ 3: '0' }), row());
    expect(config.groups.map((g) => g.id)).toEqual([1]);
  });

  it('cuts names to 16 characters with a note, and refuses control characters', () => {
    const { config, notes, rejected } = load(row({ 1: 'ABCDEFGHIJKLMNOPQRST' }), row({ 0: '2', 2: '2405', 1: '"A\tB"' }));
    expect(config.groups[0]?.name).toBe('ABCDEFGHIJKLMNOP');
    expect(formatted(notes)).toEqual([`${F}:1 sys name: 'ABCDEFGHIJKLMNOPQRST' cut to 16 characters: 'ABCDEFGHIJKLMNOP'`]);
    expect(formatted(rejected)).toEqual([`${F}:2 sys name: 'A\\tB' contains a control character`]);
  });

  it('accepts Y/N and all/new/old in any case, IPv6 in brackets and host names', () => {
    const { config, rejected } = load(row({ 12: 'n', 13: 'OLD', 14: '[fd00::5]:2404;rtu-1.example.net:2405;10.0.0.9:1' }));
    expect(rejected).toEqual([]);
    expect(config.groups[0]).toMatchObject({
      logEvents: false,
      sameIp: 'old',
      hosts: [
        { host: 'fd00::5', port: 2404 },
        { host: 'rtu-1.example.net', port: 2405 },
        { host: '10.0.0.9', port: 1 },
      ],
    });
  });

  it('an empty filter allows every master', () => {
    expect(load(row({ 15: '' })).config.groups[0]?.filter).toEqual([]);
  });
});

describe('CSV syntax', () => {
  it('reads quoted fields, trims spaces, ignores extra columns with a note and accepts short rows', () => {
    const quoted = '"5" , "Sub, A" ,2404,32,,,,,,,,,Y,all," 10.0.0.1:2404 ; 10.0.0.2:2404 ","10.0.0.0/8;192.168.0.0/16",x,,y';
    const short = '6,B,2405,33,,,,,,,,,,,10.0.0.3:2404';
    const { config, rejected, notes } = load(quoted, short);
    expect(rejected).toEqual([]);
    expect(config.groups[0]).toMatchObject({
      id: 5,
      name: 'Sub, A',
      hosts: [
        { host: '10.0.0.1', port: 2404 },
        { host: '10.0.0.2', port: 2404 },
      ],
      filter: ['10.0.0.0/8', '192.168.0.0/16'],
    });
    expect(config.groups[1]).toMatchObject({ id: 6, filter: [], logEvents: false, sameIp: 'all' });
    expect(formatted(notes)).toEqual([`${F}:1: columns after 'filter' are ignored: 'x', 'y'`]);
  });

  it('counts lines across blank lines, CRLF, a byte order mark and quoted line breaks', () => {
    const text = `\uFEFF# title\r\n\r\n"a\r\nmulti-line comment",x\r\n\r\n${row({ 3: '0' })}\r\n`;
    expect(formatted(parseIec104mm2ssCsv(F, text).rejected)).toEqual([`${F}:6 rtu no: 0 is outside 1..65535`]);
    const oldMac = `# title\r\r${row({ 3: '0' })}\r${row({ 0: '2', 2: '2405', 3: '0' })}`;
    expect(formatted(parseIec104mm2ssCsv(F, oldMac).rejected).map((s) => s.slice(0, 7))).toEqual([`${F}:3`, `${F}:4`]);
  });

  it('gives every rejected row its first line, whatever comes before it', () => {
    const kind = fc.constantFrom('blank', 'comment', 'quoted comment', 'bad', 'broken');
    fc.assert(
      fc.property(fc.array(kind, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), (kinds, eol) => {
        const lines: string[] = [];
        const expected: number[] = [];
        for (const k of kinds) {
          if (k === 'bad' || k === 'broken') expected.push(lines.length + 1);
          if (k === 'blank') lines.push('');
          else if (k === 'comment') lines.push('# note');
          else if (k === 'quoted comment') lines.push('"# two', 'lines",x');
          else if (k === 'bad') lines.push(row({ 0: String(lines.length), 3: '0' }));
          else lines.push('9,"B"x,1');
        }
        expect(parseIec104mm2ssCsv(F, lines.join(eol)).rejected.map((r) => r.line)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a row that is not valid CSV and reads on at the next line', () => {
    const { config, rejected } = load(
      row(),
      '2,"B"x,2405',
      '# a "quoted" comment',
      '"# t1, t2" and t3',
      '3,"open',
      row({ 0: '4', 2: '2406' }),
    );
    expect(formatted(rejected)).toEqual([
      `${F}:2: cannot read the row: text follows the closing quote of a field`,
      `${F}:5: cannot read the row: a quoted field is not closed`,
    ]);
    expect(config.groups.map((g) => g.id)).toEqual([1, 4]);
  });

  it('never throws, whatever the text', () => {
    const piece = fc.constantFrom(',', ';', ':', '"', '\n', '\r\n', '#', '!', ' ', '1', '2404', 'ntp_server', 'nogui', '[::1]', 'a', '/');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(piece).map((p) => p.join('')),
        ),
        (text) => {
          const r = parseIec104mm2ssCsv(F, text);
          expect(Array.isArray(r.rejected)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('comments, options and the end marker', () => {
  it('treats #rows, the title, the header and rows without a numeric id as comments', () => {
    const { config, rejected, notes } = load(
      'iec104MM2SS-1port-v1.0 ini file,,,',
      'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter',
      '#333,Liwa,2406,95',
      'ntp_update_every_sec is in seconds.,,,',
      ',,,,',
    );
    expect([config.groups, rejected, notes]).toEqual([[], [], []]);
  });

  it('notes a row whose id is empty but which holds data', () => {
    expect(formatted(load(row({ 0: '' })).notes)).toEqual([`${F}:1 id: is empty, so the row is read as a comment and not loaded`]);
  });

  it('reads nogui, repeated ntp_server rows in order and ntp_update_every_sec', () => {
    const { config, rejected, notes } = load(
      'NoGui',
      'ntp_server,pool.ntp.org',
      'ntp_server,10.0.0.1',
      'ntp_update_every_sec,60',
      'ntp_update_every_sec,30',
    );
    expect(rejected).toEqual([]);
    expect(config).toMatchObject({ nogui: true, ntpServers: ['pool.ntp.org', '10.0.0.1'], ntpUpdateEverySec: 30 });
    expect(formatted(notes)).toEqual([`${F}:5 ntp_update_every_sec: replaces the value given on line 4`]);
  });

  it('rejects bad option values', () => {
    const { config, rejected } = load('ntp_update_every_sec,abc', 'ntp_update_every_sec,0', 'ntp_server,', 'ntp_server,not a host');
    expect(formatted(rejected)).toEqual([
      `${F}:1 ntp_update_every_sec: 'abc' is not a number of seconds in 1..2147483`,
      `${F}:2 ntp_update_every_sec: '0' is not a number of seconds in 1..2147483`,
      `${F}:3 ntp_server: the server is missing (column 2)`,
      `${F}:4 ntp_server: 'not a host' is not a host name or IP address`,
    ]);
    expect(config.ntpUpdateEverySec).toBe(900);
    expect(config.ntpServers).toEqual([]);
  });

  it("loads nothing from the '!' row on, and notes the rows it skips", () => {
    const { config, rejected, notes } = loadStrict(
      row(),
      '!,ignored,2405',
      '# a comment: no note',
      row({ 0: '2', 2: '2406' }),
      row({ 0: '3' }),
      row({ 0: '4', 2: '2407', 6: 'x' }),
      'ntp_server,pool.ntp.org',
      '!again',
      '5,"open',
    );
    expect(rejected).toEqual([]);
    expect(config.groups.map((g) => g.id)).toEqual([1]);
    expect(config.ntpServers).toEqual([]);
    const end = "not loaded: after the end marker '!' on line 2";
    expect(formatted(notes)).toEqual([
      `${F}:4: ${end}`,
      `${F}:5: ${end}; it would also be rejected: port no: 2404 is already used by group 1 on line 1`,
      `${F}:6: ${end}; it would also be rejected: t1: 'x' is not a whole number`,
      `${F}:7: ${end}`,
      `${F}:9: ${end}; it would also be rejected: a quoted field is not closed`,
    ]);
  });
});

describe('loadProxyConfig', () => {
  it('throws a ConfigError naming a missing file', () => {
    const missing = '/nonexistent/dir/iec104mm2ss.csv';
    expect(() => loadProxyConfig(missing)).toThrow(ConfigError);
    expect(() => loadProxyConfig(missing)).toThrow(`${missing}: cannot read file (ENOENT)`);
  });
});

describe('parseHostPort', () => {
  it('returns reasons, never throws', () => {
    expect(parseHostPort('rtu:2404')).toEqual({ ok: true, value: { host: 'rtu', port: 2404 } });
    expect(parseHostPort('1234:1')).toMatchObject({ ok: false });
    expect(parseHostPort('')).toMatchObject({ ok: false, reason: "'' is not IP:PORT (the port is missing)" });
  });
});

describe('cells IEC104MM2SS replaces by its default (test/fixtures/iec104mm2ss-bad-cells.csv)', () => {
  const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/iec104mm2ss-bad-cells.csv', import.meta.url));
  const text = readFileSync(FIXTURE, 'utf8');

  it('loads them with the default and a warning naming line, column, value and default; --strict rejects them', () => {
    const { config, rejected, warnings } = parseIec104mm2ssCsv(F, text);
    expect(config.groups.map((g) => g.id)).toEqual([1, 2, 3]);
    const [timers, lists, relations] = config.groups;
    expect(timers).toMatchObject({ maxConnections: 5, idleTime: 60, t1: 15, t2: 10, k: 12 });
    expect(lists).toMatchObject({ buffSize: 1000, logEvents: false, sameIp: 'all', hosts: [{ host: '10.0.0.3', port: 2404 }] });
    expect(lists?.filter).toEqual(['10.0.0.0/8']);
    expect(relations).toMatchObject({ maxConnections: 5, t1: 15, t2: 10, w: 8, k: 12 });
    const strictNote = ' (--strict rejects the row)';
    expect(formatted(warnings)).toEqual(
      [
        `${F}:6 idletime: '6O' is not a whole number: loaded with IEC104MM2SS's default 60`,
        `${F}:6 t1: '15s' is not a whole number: loaded with IEC104MM2SS's default 15`,
        `${F}:6 t2: 0 is outside 1..255: loaded with IEC104MM2SS's default 10`,
        `${F}:6 k: 'twelve' is not a whole number: loaded with IEC104MM2SS's default 12`,
        `${F}:7 buffsize: 10 must be at least k (12): loaded with IEC104MM2SS's default 1000`,
        `${F}:7 logevents: 'yes' is not Y or N: loaded with IEC104MM2SS's default N`,
        `${F}:7 same ip: 'both' is not all, new or old: loaded with IEC104MM2SS's default all`,
        `${F}:7 hosts: '10.0.0.2' is not IP:PORT (the port is missing): entry skipped, as IEC104MM2SS does`,
        `${F}:7 filter: 'masters' is not an IP address or CIDR block: entry skipped, as IEC104MM2SS does`,
        `${F}:8 max conn: 0 is outside 1..2147483647: loaded with IEC104MM2SS's default 5`,
        `${F}:8 t2: 15 s must be less than t1 (15 s): loaded with IEC104MM2SS's default 10`,
        `${F}:8 w: 13 must not exceed k (12): loaded with IEC104MM2SS's default 8`,
      ].map((w) => w + strictNote),
    );
    expect(formatted(rejected)).toEqual([
      `${F}:9 hosts: '10.0.0.5' is not IP:PORT (the port is missing)`,
      `${F}:10 filter: 'everyone' is not an IP address or CIDR block`,
      `${F}:11 t2: 8 s must be less than t1 (5 s) (IEC104MM2SS's default 10 would not do either)`,
    ]);

    const strict = parseIec104mm2ssCsv(F, text, { strict: true });
    expect(strict.config.groups).toEqual([]);
    expect(strict.warnings).toEqual([]);
    expect(formatted(strict.rejected).slice(0, 3)).toEqual([
      `${F}:6 idletime: '6O' is not a whole number`,
      `${F}:7 buffsize: 10 must be at least k (12)`,
      `${F}:8 max conn: 0 is outside 1..2147483647`,
    ]);
  });

  it("an empty 'max conn' means 5, as in IEC104MM2SS", () => {
    expect(load(row({ 4: '' })).config.groups[0]?.maxConnections).toBe(5);
  });

  it('warns when the first row is not the version line, as the original refuses such a file', () => {
    expect(formatted(load('# no version line', row()).warnings)).toEqual([
      `${F}:1: the first row is not the version line 'iec104MM2SS-1port-v1.0 ini file': IEC104MM2SS refuses such a file ("wrong initial file"); gridgate reads it anyway`,
    ]);
    expect(load('iec104MM2SS-1port-v1.0 ini file,,,', row()).warnings).toEqual([]);
    expect(load(row()).config.groups).toHaveLength(1);
  });
});
