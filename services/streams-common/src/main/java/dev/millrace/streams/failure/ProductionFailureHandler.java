package dev.millrace.streams.failure;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.jboss.logging.Logger;

/**
 * Kafka Streams' {@code production.exception.handler}: a record the producer could not send (an
 * output, a dead letter or a changelog entry). A retriable error is retried; any other (e.g. a
 * record over the topic's {@code max.message.bytes}) fails the stream thread, since going on would
 * commit the transaction without that record: under exactly-once a record is never dropped. Logged
 * with the topic and the record's size, so an operator can raise the limit.
 */
public final class ProductionFailureHandler implements ProductionExceptionHandler {
    private static final Logger LOG = Logger.getLogger(ProductionFailureHandler.class);

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RetriableException) {
            LOG.warnf("sending to %s failed, retrying: %s", record.topic(), exception.toString());
            return ProductionExceptionHandlerResponse.RETRY;
        }
        LOG.errorf(exception, "a record of %d bytes cannot be sent to %s: the stream thread stops",
                record.value() == null ? 0 : record.value().length, record.topic());
        return ProductionExceptionHandlerResponse.FAIL;
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord record,
                                                                           Exception exception, SerializationExceptionOrigin origin) {
        LOG.errorf(exception, "the %s of a record for %s cannot be serialized: the stream thread stops", origin, record.topic());
        return ProductionExceptionHandlerResponse.FAIL;
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
