#!/usr/bin/env node
/** The `gridgate` command line: one sub-command per file in this folder. */
import { Command, CommanderError } from 'commander';
import { demoCommand } from './demo.js';
import { dnp3Command } from './dnp3.js';
import { dnp3SimCommand } from './dnp3-sim.js';
import { gatewayCommand } from './gateway.js';
import { iec104Command } from './iec104-client.js';
import { iec61850SimCommand } from './iec61850-sim.js';
import { packageVersion, reportError, Exit } from './common.js';
import { mmsCommand } from './mms.js';
import { endQuietlyOnClosedPipe } from './output.js';
import { pointsCommand } from './points.js';
import { proxyCommand } from './proxy.js';
import { reportCommand } from './report.js';
import { rtuSimCommand } from './rtu-sim.js';

endQuietlyOnClosedPipe();

const program = new Command('gridgate')
  .description('connect, proxy, poll, decode and load-test power-grid protocols (IEC 60870-5-104, DNP3, IEC 61850 MMS, ICCP/TASE.2)')
  .version(packageVersion(), '-V, --version')
  .showHelpAfterError()
  .exitOverride()
  .addHelpText('after', '\nExample:\n  gridgate rtu-sim --port 2404 --ca 1 &\n  gridgate iec104 client --host 127.0.0.1 --port 2404 --gi');

program.addCommand(proxyCommand());
program.addCommand(rtuSimCommand());
program.addCommand(iec104Command());
program.addCommand(dnp3Command());
program.addCommand(dnp3SimCommand());
program.addCommand(iec61850SimCommand());
program.addCommand(mmsCommand());
program.addCommand(demoCommand());
program.addCommand(gatewayCommand());
program.addCommand(pointsCommand());
program.addCommand(reportCommand());
for (const c of program.commands) c.exitOverride();
for (const c of program.commands.flatMap((c) => c.commands)) c.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? Exit.OK : Exit.USAGE;
  } else {
    process.exitCode = reportError(err);
  }
}
