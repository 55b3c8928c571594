import { Controller, type Type } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload, Transport } from '@nestjs/microservices';
import { CommandProcessor } from './command-processor.service.js';
import { incomingMessageOf } from './kafka-message.js';

/**
 * The Kafka entry point of the command topic, for the topic's name on the wire (with the
 * `KAFKA_TOPIC_PREFIX`): Nest's Kafka transport subscribes to the topics its handlers' patterns
 * name, and a decorator's pattern is fixed when the class is declared, so the class is declared
 * for the configured prefix. Nest routes Kafka records by topic only (several handlers of one
 * topic would each get every record), so this one handler parses each record once and the
 * processor hands it to the message controller of its command type.
 */
export function commandsMessageController(topicPrefix: string, topic: string): Type<unknown> {
  @Controller()
  class CommandsMessageController {
    constructor(private readonly processor: CommandProcessor) {}

    // The untyped overload: the typed one wants every argument after the payload to be `unknown`.
    @EventPattern<string>(topicPrefix + topic, Transport.KAFKA)
    async handle(@Payload() value: unknown, @Ctx() context: KafkaContext): Promise<void> {
      await this.processor.process(incomingMessageOf(context, value, topicPrefix));
    }
  }
  return CommandsMessageController;
}
