package dev.millrace.streams.failure;

import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.jboss.logging.Logger;

/**
 * Kafka Streams' {@code processing.exception.handler}: what an exception that escapes a processor
 * or punctuator becomes. A {@code StepProcessor} dead-letters every failure of its own on a record,
 * so what arrives here is not one record's fault (a state store that fails, a fenced producer, a
 * punctuator's bug): skipping the record would lose it without a dead letter, so the stream
 * thread fails and {@link StreamThreadFailureHandler} decides what follows. Logged with where.
 */
public final class ProcessingFailureHandler implements ProcessingExceptionHandler {
    private static final Logger LOG = Logger.getLogger(ProcessingFailureHandler.class);

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        LOG.errorf(exception, "processor %s of task %s failed at %s-%d@%d: the stream thread stops (its tasks go on from their last commit)",
                context.processorNodeId(), context.taskId(), context.topic(), context.partition(), context.offset());
        return ProcessingHandlerResponse.FAIL;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs) {
    }
}
