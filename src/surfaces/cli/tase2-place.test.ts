import { describe, expect, it } from 'vitest';
import { placeOf, placeText } from './tase2-place.js';

describe('placeOf: where a TASE.2 endpoint command meets its peer', () => {
  it('reads --listen [host:]port and --connect host[:port], IPv6 in brackets', () => {
    expect(placeOf({ listen: '10102' }, 'connect')).toEqual({ mode: 'passive', host: '0.0.0.0', port: 10102 });
    expect(placeOf({ listen: '127.0.0.1:0' }, 'listen')).toEqual({ mode: 'passive', host: '127.0.0.1', port: 0 });
    expect(placeOf({ listen: '[::1]:102' }, 'connect')).toEqual({ mode: 'passive', host: '::1', port: 102 });
    expect(placeOf({ connect: 'node-a' }, 'listen')).toEqual({ mode: 'active', host: 'node-a', port: 102 });
    expect(placeOf({ connect: 'node-a', port: 10102 }, 'listen')).toEqual({ mode: 'active', host: 'node-a', port: 10102 });
    expect(placeOf({ connect: '[fe80::1]:3782' }, 'connect')).toEqual({ mode: 'active', host: 'fe80::1', port: 3782 });
    expect(placeOf({ connect: 'fe80::1' }, 'connect')).toEqual({ mode: 'active', host: 'fe80::1', port: 102 });
    expect(placeText({ mode: 'active', host: 'fe80::1', port: 3782 })).toBe('[fe80::1]:3782');
  });

  it('keeps the older flags: the server listens on --host/--port, the client connects to them', () => {
    expect(placeOf({}, 'listen')).toEqual({ mode: 'passive', host: '0.0.0.0', port: 102 });
    expect(placeOf({ host: '127.0.0.1', port: 0 }, 'listen')).toEqual({ mode: 'passive', host: '127.0.0.1', port: 0 });
    expect(placeOf({ host: '10.0.0.5' }, 'connect')).toEqual({ mode: 'active', host: '10.0.0.5', port: 102 });
  });

  it('names what is missing or said twice', () => {
    const problem = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(problem(() => placeOf({}, 'connect'))).toContain('give the peer (--connect host[:port]) or wait for it');
    expect(problem(() => placeOf({ listen: '1', connect: 'h' }, 'listen'))).toContain('not both');
    expect(problem(() => placeOf({ listen: '1', port: 2 }, 'listen'))).toContain('give the port in --listen');
    expect(problem(() => placeOf({ connect: 'h', host: 'g' }, 'connect'))).toContain('give the peer in --connect');
    expect(problem(() => placeOf({ connect: 'h:1', port: 2 }, 'connect'))).toContain('given twice');
    expect(problem(() => placeOf({ listen: 'h:x' }, 'listen'))).toContain("'x' is not a port in 0..65535");
    expect(problem(() => placeOf({ connect: 'h:0' }, 'connect'))).toContain("'0' is not a port in 1..65535");
    expect(problem(() => placeOf({ listen: 'host' }, 'listen'))).toContain("'host' is not [host:]port");
    expect(problem(() => placeOf({ host: 'h', port: 0 }, 'connect'))).toContain("'0' is not a peer's port");
  });
});
