/**
 * `gridgate demo`: the main job on embedded defaults. Two simulated RTUs, the multi-master proxy
 * with one group per RTU, and two masters per group printing what they get.
 */
import { Command } from 'commander';
import { Iec104Master } from '../../apps/iec104/master.js';
import { GROUP_DEFAULTS, type GroupConfig } from '../../apps/proxy/config.js';
import { Proxy } from '../../apps/proxy/proxy.js';
import { rtuFromOptions } from '../../apps/rtu-sim/config.js';
import { RtuSimulator } from '../../apps/rtu-sim/simulator.js';
import { asduToJson, formatAsdu } from '../../protocols/iec104/index.js';
import { listen } from '../../transport/net.js';
import { randomBytes } from 'node:crypto';
import { startConsole } from '../web/console-server.js';
import { addOutputOptions, emit, type OutputOptions } from './common.js';

interface DemoOptions extends OutputOptions {
  readonly duration: number;
  readonly rate: number;
  readonly console: number;
}

/** The RTUs listen on 127.0.0.2: a master may not connect from the slave's own address. */
const RTU_HOST = '127.0.0.2';

async function freePort(): Promise<number> {
  const l = await listen({ host: '127.0.0.1', port: 0, onConnection: (t) => t.close() });
  await l.close();
  return l.port;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('two simulated RTUs, the multi-master proxy with two groups, and two masters per group printing what they get')
    .option('--duration <s>', 'seconds of spontaneous traffic to show after the requests (the console stays up as long)', Number, 20)
    .option('--console <port>', 'web console port on 127.0.0.1 (0 picks a free one)', Number, 8104)
    .option('--rate <n>', 'spontaneous changes per second per RTU', Number, 2);
  addOutputOptions(cmd, 'warn');
  cmd.addHelpText('after', '\nExample:\n  gridgate demo --duration 10 --json');
  cmd.action(async (o: DemoOptions) => {
    const sims = [
      new RtuSimulator([rtuFromOptions({ host: RTU_HOST, port: 0, ca: 1, rate: o.rate })]),
      new RtuSimulator([rtuFromOptions({ host: RTU_HOST, port: 0, ca: 2, rate: o.rate })]),
    ];
    for (const s of sims) await s.start();
    const groups: GroupConfig[] = [];
    for (const [i, s] of sims.entries()) {
      const port = await freePort();
      groups.push({
        ...GROUP_DEFAULTS,
        id: i + 1,
        name: `SUBSTATION-${i + 1}`,
        port,
        rtu: i + 1,
        hosts: [{ host: RTU_HOST, port: s.rtus[0]!.slave.port }],
        filter: ['127.0.0.0/8'],
        masters: [],
      });
      emit(o, `RTU ${i + 1}: ${RTU_HOST}:${s.rtus[0]!.slave.port} CA ${i + 1}  <-  proxy group ${i + 1} on 127.0.0.1:${port}`, {
        event: 'group',
        group: i + 1,
        rtu: `${RTU_HOST}:${s.rtus[0]!.slave.port}`,
        port,
      });
    }
    const proxy = new Proxy(
      { groups, ntpServers: [], ntpUpdateEverySec: 900, nogui: true },
      { logLevel: o.logLevel ?? 'warn', listenHost: '127.0.0.1', retryDelayMs: 200 },
    );
    await proxy.start();
    const token = randomBytes(12).toString('base64url');
    // The default port may be taken (another proxy): fall back to any free one.
    const web = await startConsole({ proxy, host: '127.0.0.1', port: o.console, token }).catch(() =>
      startConsole({ proxy, host: '127.0.0.1', port: 0, token }),
    );
    emit(o, `web console: ${web.url}`, { event: 'console', url: web.url });
    const masters: { name: string; master: Iec104Master; ca: number }[] = [];
    try {
      for (const g of groups) {
        for (const n of [1, 2]) {
          const name = `G${g.id}/M${n}`;
          const master = await Iec104Master.connect({ host: '127.0.0.1', port: g.port, attempts: 50, retryDelayMs: 100 });
          master.on('event', (e) => {
            if (e.type !== 'data') return;
            if (o.json === true) emit(o, '', { ts: new Date().toISOString(), master: name, ...asduToJson(e.data) });
            else for (const line of formatAsdu(e.data)) emit(o, `[${name}] <- ${line}`, {});
          });
          masters.push({ name, master, ca: g.rtu });
        }
      }
      const step = (name: string, text: string): void => emit(o, `[${name}] -> ${text}`, { event: 'step', master: name, step: text });
      for (const m of masters) {
        step(m.name, 'STARTDT');
        await m.master.start();
      }
      for (const m of masters.filter((_, i) => i % 2 === 0)) {
        step(m.name, 'general interrogation');
        await m.master.interrogate(m.ca);
      }
      for (const m of masters.filter((_, i) => i % 2 === 1)) {
        step(m.name, 'single command IOA 4501 OFF, select before operate');
        await m.master.singleCommand(m.ca, 4501, false, { select: true });
        await m.master.singleCommand(m.ca, 4501, false);
      }
      emit(o, `spontaneous data for ${o.duration} s`, { event: 'step', step: 'spontaneous' });
      await new Promise((r) => setTimeout(r, o.duration * 1000));
      for (const s of proxy.snapshot()) {
        emit(o, `group ${s.id} ${s.name}: slave ${s.slave.peer ?? '-'}, ${s.masters.length} masters, routed ${JSON.stringify(s.router)}`, {
          event: 'summary',
          group: s.id,
          masters: s.masters.length,
          router: s.router,
        });
      }
    } finally {
      for (const m of masters) await m.master.close();
      await web.close();
      await proxy.stop();
      for (const s of sims) await s.stop();
    }
  });
  return cmd;
}
