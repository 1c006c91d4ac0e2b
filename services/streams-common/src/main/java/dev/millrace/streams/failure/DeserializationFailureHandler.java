package dev.millrace.streams.failure;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.jboss.logging.Logger;

/**
 * Kafka Streams' {@code deserialization.exception.handler}. A step's source reads string keys and
 * raw bytes ({@code StepWiring}), which cannot fail to deserialize: a message that is not of its
 * topic's type reaches the step and becomes a {@code MALFORMED_MESSAGE} dead letter there. Were a
 * deserializer to fail anyway, skipping would lose the record without a dead letter, so the stream
 * thread fails (then {@link StreamThreadFailureHandler}), logged with where.
 */
public final class DeserializationFailureHandler implements DeserializationExceptionHandler {
    private static final Logger LOG = Logger.getLogger(DeserializationFailureHandler.class);

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.errorf(exception, "the message at %s-%d@%d cannot be deserialized: the stream thread stops",
                record.topic(), record.partition(), record.offset());
        return DeserializationHandlerResponse.FAIL;
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
