import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../core/errors.js';
import { nodeAddress, parseCidr, parseScenario, scenarioYaml } from './scenario.js';

function problems(text: string, overrides: Parameters<typeof parseScenario>[2] = []): string[] {
  try {
    parseScenario('s.yaml', text, overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatConfigIssue);
    throw err;
  }
  return [];
}

describe('the generator scenario', () => {
  it('fills the seed defaults around what the file gives', () => {
    const s = parseScenario('s.yaml', 'targets: [10.0.0.5:102]\nnodes: 250\n');
    expect(s).toMatchObject({
      model: 'push',
      nodes: 250,
      duration: 60,
      startDelay: 0,
      ramp: { kind: 'all-at-once' },
      node: { points: 10, updateIntervalMs: 1000 },
      values: { kind: 'random', min: 0, max: 100 },
      naming: { nodeApTitlePrefix: '1.1.999', collectorApTitle: '1.1.1.1', domain: 'icc1', dataSet: 'dts1' },
      targets: ['10.0.0.5:102'],
      addresses: { cidr: '127.1.0.0/16' },
    });
    expect(s.tls).toBeUndefined();
    expect(s.rest).toBeUndefined();
  });

  it('names the file, line and field of every problem', () => {
    const text = [
      'model: push', //           1
      'nodes: 0', //              2
      'ramp:', //                 3
      '  kind: staircase', //     4
      '  every: -1', //           5
      'values:', //               6
      '  kind: random', //        7
      '  min: 5', //              8
      '  max: 1', //              9
      'targets: [nowhere]', //    10
    ].join('\n');
    const got = problems(text);
    expect(got).toContainEqual(expect.stringMatching(/^s\.yaml:2 nodes: /));
    expect(got).toContainEqual(expect.stringMatching(/^s\.yaml:5 ramp\.every: /));
    expect(got).toContainEqual('s.yaml:9 values.max: min must not exceed max');
    expect(got).toContainEqual('s.yaml:10 targets.0: host:port (port 0..65535)');
  });

  it('asks PUSH for a target and limits targets to the two transfer sets a node has', () => {
    expect(problems('model: push\n')).toEqual(['s.yaml:1 targets: a PUSH run needs a target (host:port of a collector or balancer)']);
    expect(problems('targets: [a:1, b:2, c:3]\n')).toEqual([
      's.yaml:1 targets: a node reserves at most two transfer sets: give one or two targets',
    ]);
    expect(problems('model: pull\n')).toEqual([]);
  });

  it('checks the address block holds every node', () => {
    expect(problems('model: pull\nnodes: 300\naddresses: { cidr: 10.1.2.0/24 }\n')).toEqual([
      's.yaml:3 addresses.cidr: 10.1.2.0/24 has 254 usable addresses, fewer than 300 nodes',
    ]);
    expect(problems('model: pull\naddresses: { cidr: 10.1.2.0/33 }\n')).toEqual([
      's.yaml:2 addresses.cidr: an IPv4 block like 127.1.0.0/16',
    ]);
  });

  it('gives each node its own address, skipping the network address', () => {
    const b = parseCidr('127.1.0.0/16')!;
    expect(b.size).toBe(65_534);
    expect([1, 2, 255, 256, 1000].map((n) => nodeAddress(b, n))).toEqual([
      '127.1.0.1',
      '127.1.0.2',
      '127.1.0.255',
      '127.1.1.0',
      '127.1.3.232',
    ]);
    expect(nodeAddress(parseCidr('192.0.2.7/32')!, 1)).toBe('192.0.2.7');
  });

  it('lays the flags over the file; a bad flag is named as the command line', () => {
    const s = parseScenario('s.yaml', 'targets: [a:1]\nnodes: 4\nnode: { points: 3 }\n', [
      { path: ['nodes'], value: 8 },
      { path: ['node', 'updateIntervalMs'], value: 250 },
    ]);
    expect(s.nodes).toBe(8);
    expect(s.node).toEqual({ points: 3, updateIntervalMs: 250 });
    expect(problems('targets: [a:1]\n', [{ path: ['targets'], value: ['x'] }])).toEqual([
      '(command line) targets.0: host:port (port 0..65535)',
    ]);
  });

  it('refuses unknown fields (a typo is not silently ignored) and ports out of range', () => {
    expect(problems('model: pull\nnodez: 5\n')).toEqual([expect.stringMatching(/^s\.yaml:1: Unrecognized key: "nodez"/)]);
    expect(problems('model: pull\nramp: { kind: all-at-once, every: 2 }\n')).toEqual([
      expect.stringMatching(/^s\.yaml:2 ramp: Unrecognized key: "every"/),
    ]);
    expect(problems('targets: [a:70000]\n')).toEqual(['s.yaml:1 targets.0: host:port (port 0..65535)']);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('nodes: 3\nramp: [\n')[0]).toMatch(/^s\.yaml:\d+: /);
    expect(problems('- a\n- b\n')).toEqual(['s.yaml: a scenario is a YAML mapping (model, duration, nodes, …)']);
  });

  it('--save writes a file that reads back as the same scenario', () => {
    const s = parseScenario(
      's.yaml',
      `model: push
startDelay: 2
duration: 30
nodes: 7
ramp: { kind: staircase-peak, every: 1.5 }
node: { points: 20, updateIntervalMs: 50 }
values: { kind: static, value: 49.95 }
naming: { nodeApTitlePrefix: 1.3.9999, collectorApTitle: 1.3.1, domain: ICC9, dataSet: DS9 }
targets: [127.0.0.1:10102, 127.0.0.2:10102]
addresses: { cidr: 10.9.0.0/16, interface: eth1 }
tls: { ca: ca.pem, cert: node.pem, key: node.key }
rest: { port: 8090, token: s3cret }
results: run.json
`,
    );
    const again = parseScenario('saved.yaml', scenarioYaml(s));
    expect(again).toEqual(s);
    expect(again.rest).toEqual({ host: '127.0.0.1', port: 8090, token: 's3cret' });
  });
});
