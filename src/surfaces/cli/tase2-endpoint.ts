/**
 * `gridgate tase2 server` and `gridgate tase2 client`: a TASE.2 endpoint from the command line.
 * The server serves a YAML model, passive (`--listen`, the default) or active (`--connect`); the
 * client (`tase2-client.ts`) browses a peer it connects to or waits for.
 */
import { Command } from 'commander';
import { connectEndpoint, PassiveEndpoint, type EndpointOptions, type Tase2Association } from '../../apps/tase2/endpoint.js';
import { loadTase2ServerConfig, messagesOf, modelOf, stepValue } from '../../apps/tase2/config.js';
import { InformationMessageSender } from '../../apps/tase2/messages.js';
import type { ObjectName } from '../../protocols/mms/access.js';
import { addOutputOptions, addTlsOptions, emit, EXIT_HELP, loggerFor, tlsFiles } from './common.js';
import { clientCommand } from './tase2-client.js';
import { addPlaceOptions, orSignal, placeOf, placeText, type EndpointCliOptions } from './tase2-place.js';

function serverCommand(): Command {
  const cmd = new Command('server')
    .description('serve a TASE.2 model (VCC/ICC data values, data sets, transfer sets, bilateral tables) as a passive or active endpoint')
    .requiredOption('--config <file>', 'YAML model (see docs/tase2.md)');
  addPlaceOptions(cmd, 'address to listen on (default 0.0.0.0; the same as --listen host:port)');
  addTlsOptions(cmd);
  cmd.option(
    '--message <text>',
    'information message (block 4, ICC scope) sent once to each peer when it enables them; repeatable (YAML messages: for schedules)',
    (v: string, previous: readonly string[] = []) => [...previous, v],
  );
  addOutputOptions(cmd, 'info');
  return cmd
    .addHelpText(
      'after',
      `
Passive unless --connect. Active, it calls the peer of the first bilateral table and runs until
that association ends or a signal comes. Information messages go only to peers that enabled them
(IM_Transfer_Set, allowed by a table with block 4); each is printed as sent or refused.

Example:
  gridgate tase2 server --config centre.yaml --listen 10102
  gridgate tase2 server --config node.yaml --connect 10.0.0.5:102
${EXIT_HELP}`,
    )
    .action(async (o: EndpointCliOptions & { readonly config: string; readonly message?: readonly string[] }) => {
      const place = placeOf(o, 'listen');
      const config = loadTase2ServerConfig(o.config);
      const model = modelOf(config, Date.now());
      const logger = loggerFor('tase2-server', o);
      const tls = tlsFiles(o);
      const base: EndpointOptions = {
        local: {
          apTitle: config.local.apTitle,
          ...(config.local.aeQualifier === undefined ? {} : { aeQualifier: config.local.aeQualifier }),
        },
        model,
        logger,
        ...(config.identity === undefined ? {} : { identity: config.identity }),
        ...(tls === undefined ? {} : { tls }),
      };
      // What goes wrong on an association that stays up (a report expired by TLE, a missing ACK, a malformed PDU) is logged.
      const logProblems = (a: Tase2Association): void => {
        a.on('event', (e) => {
          if (e.type === 'problem') logger.warn({ remote: a.remote, kind: e.kind }, e.reason);
        });
      };
      const sender = new InformationMessageSender(
        [
          ...messagesOf(config),
          ...(o.message ?? []).map((text, i) => ({
            message: { infoReference: 0, localReference: 0, messageId: i + 1, data: new TextEncoder().encode(text) },
          })),
        ],
        ({ association, message, refused }) => {
          const what = {
            remote: association.remote,
            messageId: message.messageId,
            scope: message.scope ?? 'ICC',
            size: message.data.length,
          };
          if (refused === undefined)
            emit(o, `message ${message.messageId} sent to ${association.remote}`, { event: 'message-sent', ...what });
          else
            emit(o, `message ${message.messageId} to ${association.remote} refused: ${refused.reason}`, {
              event: 'message-refused',
              ...what,
              kind: refused.kind,
              reason: refused.reason,
            });
        },
      );
      const timers = config.simulate.map((s) =>
        setInterval(() => {
          const name: ObjectName = { scope: 'domain', domainId: s.domain, itemId: s.name };
          const v = model.get(name);
          if (v !== undefined) model.set(name, stepValue(v, s.step, Date.now()));
        }, s.periodMs),
      );
      model.devices.onOperate((op) =>
        emit(o, `operated ${op.domain}/${op.device} = ${op.value}`, {
          event: 'operated',
          domain: op.domain,
          device: op.device,
          value: op.value,
        }),
      );
      // The schedule stops however the run ends (a refused or failed connect too), so the process can exit.
      try {
        let stop: () => Promise<unknown>;
        let ended: Promise<string> = new Promise(() => undefined);
        if (place.mode === 'passive') {
          const e = await PassiveEndpoint.listen({
            ...base,
            host: place.host,
            port: place.port,
            onAssociation: (a) => {
              sender.add(a);
              logProblems(a);
              emit(o, `associated ${a.remote} (table ${a.session.table?.id ?? '-'})`, {
                event: 'associated',
                remote: a.remote,
                table: a.session.table?.id ?? null,
              });
            },
          });
          emit(o, `listening on ${placeText({ ...place, port: e.port })} as ${config.local.apTitle}`, { event: 'listening', port: e.port });
          stop = () => e.close();
        } else {
          const table = config.tables[0]!;
          const a = await connectEndpoint({
            ...base,
            host: place.host,
            port: place.port,
            table: modelOf(config, 0).tables[0]!,
            remote: { apTitle: table.apTitle, ...(table.aeQualifier === undefined ? {} : { aeQualifier: table.aeQualifier }) },
          });
          sender.add(a);
          logProblems(a);
          emit(o, `associated ${a.remote} (table ${table.id})`, { event: 'associated', remote: a.remote, table: table.id });
          ended = a.closed.then((c) => `association ended (${c.how}): ${c.reason}`);
          stop = () => a.release();
        }
        const why = await orSignal(ended);
        if (typeof why === 'string') emit(o, why, { event: 'closed', reason: why });
        else emit(o, `stopping (${why.signal})`, { event: 'stopping', signal: why.signal });
        await stop();
      } finally {
        for (const t of timers) clearInterval(t);
        sender.stop();
      }
    });
}

/** `gridgate tase2 server` and `gridgate tase2 client`. */
export function tase2EndpointCommands(): readonly Command[] {
  return [serverCommand(), clientCommand()];
}
