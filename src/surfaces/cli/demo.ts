/**
 * `gridgate demo`: the main job on embedded defaults. Until the proxy lands this starts the RTU
 * simulator on loopback and a master against it, and prints what flows.
 */
import { Command } from 'commander';
import { Iec104Master } from '../../apps/iec104/master.js';
import { rtuFromOptions } from '../../apps/rtu-sim/config.js';
import { RtuSimulator } from '../../apps/rtu-sim/simulator.js';
import { asduToJson, formatAsdu } from '../../protocols/iec104/index.js';
import { addOutputOptions, emit, loggerFor, type OutputOptions } from './common.js';

interface DemoOptions extends OutputOptions {
  readonly duration: number;
  readonly rate: number;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run an RTU simulator and a master against it on loopback, and print what flows')
    .option('--duration <s>', 'seconds of spontaneous traffic to show after the requests', Number, 5)
    .option('--rate <n>', 'spontaneous changes per second', Number, 4);
  addOutputOptions(cmd, 'warn');
  cmd.addHelpText('after', '\nExample:\n  gridgate demo --duration 10 --json');
  cmd.action(async (o: DemoOptions) => {
    const logger = loggerFor('demo', o);
    const sim = new RtuSimulator([rtuFromOptions({ host: '127.0.0.1', port: 0, ca: 1, rate: o.rate })], { logger });
    await sim.start();
    const rtu = sim.rtus[0]!;
    const port = rtu.slave.port;
    emit(o, `RTU simulator: 127.0.0.1:${port}, CA 1, ${rtu.config.points.length} points`, {
      event: 'rtu-sim',
      port,
      points: rtu.config.points.length,
    });
    const master = await Iec104Master.connect({ host: '127.0.0.1', port, logger });
    master.on('event', (e) => {
      if (e.type !== 'asdu') return;
      if (o.json === true) emit(o, '', { ts: new Date().toISOString(), ...asduToJson(e.asdu) });
      else for (const line of formatAsdu(e.asdu)) emit(o, `  <- ${line}`, {});
    });
    const step = (text: string): void => emit(o, `-> ${text}`, { event: 'step', step: text });
    try {
      step('STARTDT');
      await master.start();
      step('general interrogation');
      await master.interrogate(1);
      step('counter interrogation');
      await master.counterInterrogate(1);
      step('clock synchronisation');
      await master.clockSync(1, new Date());
      step('single command IOA 4501 ON, select before operate');
      await master.singleCommand(1, 4501, true, { select: true });
      await master.singleCommand(1, 4501, true);
      step('double command IOA 4601 ON');
      await master.doubleCommand(1, 4601, 2);
      step(`spontaneous data for ${o.duration} s`);
      await new Promise((r) => setTimeout(r, o.duration * 1000));
      step('STOPDT');
      await master.stop();
      emit(o, `link counters: ${JSON.stringify(master.counters)}`, { event: 'counters', counters: master.counters });
    } finally {
      await master.close();
      await sim.stop();
    }
  });
  return cmd;
}
