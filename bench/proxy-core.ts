/**
 * The proxy group's own cost per ASDU, without sockets: a GroupCore fed by an RTU link session
 * and delivering to two master link sessions in this thread (their framing and acknowledgements
 * are counted too). What it shows is the ceiling the core puts on a group's rate when the
 * network, the RTU and the masters cost nothing. Run alone: `node --import tsx bench/proxy-core.ts [N]`.
 */
import { GROUP_DEFAULTS } from '../src/apps/proxy/config.js';
import { GroupCore, type GroupAction, type LinkId } from '../src/apps/proxy/group-core.js';
import { Cot, encodeAsdu, GOOD, LinkSession } from '../src/protocols/iec104/index.js';

export function proxyCoreBench(n = 200_000): number {
  const core = new GroupCore({
    ...GROUP_DEFAULTS,
    id: 1,
    name: 'G',
    port: 1,
    rtu: 1,
    hosts: [{ host: 'rtu', port: 2404 }],
    filter: [],
    masters: [],
  });
  let now = 0;
  const peers = new Map<LinkId, LinkSession>();
  const carry = (a: GroupAction): void => {
    if (a.type !== 'send') return;
    const p = peers.get(a.link);
    for (const c of a.chunks) p?.receive(c, now);
  };
  /** Moves bytes both ways until nothing moves; each peer's output reaches the core as one read. */
  const settle = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (let a = core.pollAction(); a !== undefined; a = core.pollAction()) carry(a);
      for (const [link, p] of peers) {
        while (p.pollEvent() !== undefined);
        const chunks: Uint8Array[] = [];
        for (let c = p.pollTransmit(); c !== undefined; c = p.pollTransmit()) chunks.push(c);
        if (chunks.length === 0) continue;
        moved = true;
        const read = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          read.set(c, at);
          at += c.length;
        }
        core.receive(link, read, now);
      }
    }
  };
  core.start(now);
  settle();
  core.connected(1, 'rtu:2404', '10.0.0.1', now);
  peers.set('slave', new LinkSession('controlled', now, { maxQueue: n + 1 }));
  for (const address of ['10.1.0.1', '10.1.0.2']) {
    const r = core.admit(`${address}:50000`, address, now);
    if (!('id' in r)) throw new Error(`master refused: ${r.refused}`);
    const m = new LinkSession('controlling', now);
    peers.set(r.id, m);
    m.startDataTransfer(now);
  }
  settle();
  const rtu = peers.get('slave')!;
  const asdu = encodeAsdu({ type: 'M_ME_NC_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 1, value: 1.5, quality: GOOD }] });
  const began = performance.now();
  for (let i = 0; i < n; i += 1000) {
    for (let j = 0; j < 1000; j++) rtu.send(asdu, now);
    settle();
    now += 1;
  }
  const perSecond = (n * 1000) / (performance.now() - began);
  console.log(
    `proxy core, RTU -> 2 masters in one thread: ${(perSecond / 1000).toFixed(0)} k ASDU/s (${n} ASDUs, peers' link work included)`,
  );
  return perSecond;
}

if (process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href)
  proxyCoreBench(Number(process.argv[2] ?? 200_000));
