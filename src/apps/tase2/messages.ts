/**
 * Information messages (block 4) a TASE.2 node sends from its configuration: each message goes to
 * every association whose peer enabled them (wrote IM_Transfer_Set true), either once, when the
 * peer enables them, or every `periodMs`. Each sending is a new message instance, so MessageId
 * counts up from the configured one. What is sent, and what was refused (too large for the
 * negotiated PDU, a reference beyond Integer32), is reported through `onSend`; a peer that has not
 * enabled messages is simply not sent to.
 */
import type { InformationMessage } from '../../protocols/tase2/messages.js';
import type { InformationMessageRefusal } from '../../protocols/tase2/session.js';
import type { Tase2Association } from './endpoint.js';

/** One configured message: sent once per peer when it enables messages, or every `periodMs`. */
export interface ConfiguredMessage {
  readonly message: InformationMessage;
  readonly periodMs?: number;
}

/** A message sent to (or refused for) one association. */
export interface MessageSent {
  readonly association: Tase2Association;
  readonly message: InformationMessage;
  readonly refused?: InformationMessageRefusal;
}

export class InformationMessageSender {
  readonly #configured: readonly ConfiguredMessage[];
  readonly #onSend: (s: MessageSent) => void;
  readonly #associations = new Set<Tase2Association>();
  /** The next MessageId of each configured message. */
  readonly #ids: number[];
  readonly #timers: ReturnType<typeof setInterval>[];

  constructor(configured: readonly ConfiguredMessage[], onSend: (s: MessageSent) => void) {
    this.#configured = configured;
    this.#onSend = onSend;
    this.#ids = configured.map((c) => c.message.messageId);
    this.#timers = configured.flatMap((c, i) => (c.periodMs === undefined ? [] : [setInterval(() => this.#sendToAll(i), c.periodMs)]));
  }

  /** Serves an association: its once-messages go out when its peer enables messages. */
  add(a: Tase2Association): void {
    this.#associations.add(a);
    void a.closed.then(() => this.#associations.delete(a));
    a.on('event', (e) => {
      if (e.type !== 'information-messages' || !e.enabled) return;
      this.#configured.forEach((c, i) => {
        if (c.periodMs === undefined) this.#send(a, i);
      });
    });
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
  }

  #sendToAll(i: number): void {
    for (const a of this.#associations) this.#send(a, i);
  }

  #send(a: Tase2Association, i: number): void {
    const message = { ...this.#configured[i]!.message, messageId: this.#ids[i]! };
    const refused = a.sendInformationMessage(message);
    if (refused?.kind === 'not-enabled') return;
    // MessageId is an Integer32: it wraps to 0 after the largest.
    this.#ids[i] = message.messageId >= 2 ** 31 - 1 ? 0 : message.messageId + 1;
    this.#onSend({ association: a, message, ...(refused === undefined ? {} : { refused }) });
  }
}
