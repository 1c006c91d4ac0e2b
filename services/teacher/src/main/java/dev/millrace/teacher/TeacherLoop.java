package dev.millrace.teacher;

import dev.millrace.contract.DeadLetters;
import dev.millrace.contract.Topics;
import dev.millrace.proto.v1.TopicOffset;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * The teacher's consume-answer-produce loop, exactly once: prompts read {@code read_committed} from
 * {@code <prefix>.distill.prompts} by a consumer of the group {@code millrace-teacher} (static member: the instance
 * id), answers and dead letters written by a transactional producer (transactional id: the instance id) in a
 * transaction that also commits the consumer's offsets with the group's metadata, so a zombie instance is fenced.
 * A transaction holds up to {@code commit-every-prompts} prompts and stays open at most {@code commit-interval}.
 * When a transaction fails it is aborted and the consumer goes back to the offsets it began at: the prompts are
 * answered again, with the same seeds, so the same answers are written.
 */
public final class TeacherLoop implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TeacherLoop.class);
    public static final String DEFAULT_GROUP_ID = "millrace-teacher";

    /** Where it reads and writes and how it groups its transactions. */
    public record Settings(Topics topics, String instanceId, int commitEveryPrompts, Duration commitInterval, Map<String, Object> kafka) {
    }

    /** What the loop reports (metrics); called on the loop's thread. */
    public interface Listener {
        void promptIn();

        void outcome(PromptAnswerer.Outcome outcome);

        void committed(int prompts);

        void aborted();
    }

    private final Settings settings;
    private final PromptAnswerer answerer;
    private final Listener listener;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private volatile boolean stopping;
    /** Set by {@link #close()}: the consumer's callbacks during its close have nothing to do. */
    private volatile boolean closing;
    private volatile boolean assigned;
    /** When the prompt in process began (System.nanoTime), or 0 when none is. */
    private volatile long inProcessSince;

    /** The open transaction: the next offset of each partition read in it, and where it began on each. */
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    private final Map<TopicPartition, Long> began = new HashMap<>();
    private int pendingPrompts;
    private long openedAt;
    private boolean open;

    public TeacherLoop(Settings settings, PromptAnswerer answerer, Listener listener) {
        this.settings = settings;
        this.answerer = answerer;
        this.listener = listener;
        this.consumer = new KafkaConsumer<>(consumerProperties(settings), new StringDeserializer(), new ByteArrayDeserializer());
        try {
            this.producer = new KafkaProducer<>(producerProperties(settings), new StringSerializer(), new ByteArraySerializer());
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    static Properties consumerProperties(Settings s) {
        Properties p = new Properties();
        p.putAll(s.kafka());
        p.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, DEFAULT_GROUP_ID);
        // A restarted instance takes its partitions back at once, without waiting for the killed one's session to expire.
        p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, s.instanceId());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, s.instanceId() + "-prompts");
        // One prompt per poll: answering takes seconds, and a rebalance is handled between prompts (the next poll).
        p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        p.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        return p;
    }

    static Properties producerProperties(Settings s) {
        Properties p = new Properties();
        p.putAll(s.kafka());
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, s.instanceId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, s.instanceId() + "-answers");
        return p;
    }

    /**
     * Fences any earlier producer of this instance id (its open transaction is aborted) and subscribes; then
     * answers prompts until {@link #stop()}.
     *
     * @throws ProducerFencedException when another instance with the same id took over (this one must end)
     */
    public void run() {
        producer.initTransactions();
        consumer.subscribe(List.of(settings.topics().distillPrompts()), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (closing) {
                    return; // the loop has ended: nothing is open
                }
                // Still a member of the old generation: what was answered is committed before the partitions move.
                commit();
                assigned = !consumer.assignment().isEmpty() && !partitions.containsAll(consumer.assignment());
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                assigned = true;
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                if (closing) {
                    return;
                }
                // Another member may own them already: this transaction can no longer commit.
                abort();
                assigned = false;
            }
        });
        try {
            while (!stopping) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    // After an abort the consumer was sent back: the rest of this poll comes again.
                    if (!process(record) || stopping) {
                        break;
                    }
                }
                if (open && (pendingPrompts >= settings.commitEveryPrompts()
                        || System.nanoTime() - openedAt >= settings.commitInterval().toNanos() || stopping)) {
                    commit();
                }
            }
        } catch (WakeupException e) {
            if (!stopping) {
                throw e;
            }
            commit(); // stopped while waiting for prompts: what was answered is kept
        } finally {
            abort(); // a stop between prompts leaves nothing open; one that interrupts a transaction discards it
        }
    }

    /** Answers one prompt inside the open transaction (opening one if none is); false when the transaction failed and was aborted. */
    private boolean process(ConsumerRecord<String, byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        if (!open) {
            producer.beginTransaction();
            open = true;
            openedAt = System.nanoTime();
        }
        began.putIfAbsent(tp, record.offset());
        listener.promptIn();
        TopicOffset input = TopicOffset.newBuilder().setTopic(record.topic()).setPartition(record.partition()).setOffset(record.offset()).build();
        inProcessSince = System.nanoTime();
        PromptAnswerer.Outcome outcome;
        try {
            outcome = answerer.answer(record.value(), input);
        } finally {
            inProcessSince = 0;
        }
        try {
            if (outcome instanceof PromptAnswerer.Answered a) {
                producer.send(new ProducerRecord<>(settings.topics().raw(dev.millrace.core.record.Stage.DISTILL), a.record().getRecordId(),
                        a.record().toByteArray()));
            } else if (outcome instanceof PromptAnswerer.Rejected r) {
                producer.send(new ProducerRecord<>(settings.topics().dlq(), DeadLetters.key(r.letter()), r.letter().toByteArray()));
            }
        } catch (KafkaException e) {
            failed(e);
            return false;
        }
        listener.outcome(outcome);
        pending.put(tp, new OffsetAndMetadata(record.offset() + 1));
        pendingPrompts++;
        return true;
    }

    /** Commits the open transaction with the offsets after its prompts; on failure aborts it (see {@link #failed}). */
    private void commit() {
        if (!open) {
            return;
        }
        try {
            producer.sendOffsetsToTransaction(new HashMap<>(pending), consumer.groupMetadata());
            producer.commitTransaction();
            listener.committed(pendingPrompts);
            clear();
        } catch (KafkaException e) {
            failed(e);
        }
    }

    /**
     * A transaction that failed: a fenced producer (another instance took this id over) ends the loop; anything else
     * aborts the transaction and sends the consumer back to where it began, to answer those prompts again.
     */
    private void failed(KafkaException e) {
        if (e instanceof ProducerFencedException || e instanceof FencedInstanceIdException || e instanceof OutOfOrderSequenceException
                || e instanceof AuthorizationException) {
            throw e; // fatal for this producer (the Kafka producer's documented fatal errors)
        }
        LOG.warnf("teacher: a transaction of %d prompts failed (%s: %s); it is aborted and its prompts are answered again",
                pendingPrompts, e.getClass().getSimpleName(), e.getMessage());
        abort();
    }

    /** Aborts the open transaction (if any) and seeks back to the offsets it began at. */
    private void abort() {
        if (!open) {
            return;
        }
        try {
            producer.abortTransaction();
            listener.aborted();
        } catch (ProducerFencedException | FencedInstanceIdException e) {
            throw e; // another instance took over: the broker aborted this transaction when it did
        } catch (KafkaException e) {
            LOG.warnf("teacher: aborting a transaction failed: %s", e.getMessage());
        } finally {
            try {
                for (Map.Entry<TopicPartition, Long> b : began.entrySet()) {
                    if (consumer.assignment().contains(b.getKey())) {
                        consumer.seek(b.getKey(), b.getValue());
                    }
                }
            } finally {
                clear();
            }
        }
    }

    private void clear() {
        pending.clear();
        began.clear();
        pendingPrompts = 0;
        open = false;
    }

    /** Asks the loop to end after the prompt in process (it commits what it answered). Any thread. */
    public void stop() {
        stopping = true;
        consumer.wakeup();
    }

    /** Whether the consumer holds partitions of the prompt topic. */
    public boolean assigned() {
        return assigned;
    }

    /** When the prompt in process began (System.nanoTime()), or 0 when none is. */
    public long inProcessSince() {
        return inProcessSince;
    }

    @Override
    public void close() {
        closing = true;
        try {
            producer.close(Duration.ofSeconds(5));
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}
