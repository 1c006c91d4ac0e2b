package dev.millrace.streams.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.StepProcessor;
import dev.millrace.streams.StepWiring;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/** Issue 11, item 2: a step stuck on one record is visible in its liveness, naming the step and the record. */
class StuckRecordCheckTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RecordsInProcess records = new RecordsInProcess(now::get);
    private final StuckRecordCheck check = new StuckRecordCheck(records, Duration.ofSeconds(60));

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void upWhileNoRecordIsInProcessForLongerThanTheLimitDownNamingTheStepAndTheRecordOnceOneIs() {
        assertThat(check.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);

        RecordsInProcess.Started slow = records.start("chat-template/sft", "millrace.sft.raw-0@42");
        advance(Duration.ofSeconds(59));
        RecordsInProcess.Started quick = records.start("chat-template/dpo", "millrace.dpo.raw-1@7");
        HealthCheckResponse within = check.call();
        advance(Duration.ofSeconds(2));
        HealthCheckResponse past = check.call();

        assertThat(within.getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
        assertThat(within.getData().orElseThrow()).containsEntry("in_process", 2L);
        assertThat(past.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(past.getName()).isEqualTo("records in process");
        assertThat(past.getData().orElseThrow()).containsEntry("step", "chat-template/sft").containsEntry("record", "millrace.sft.raw-0@42")
                .containsEntry("in_process_ms", 61_000L).containsEntry("stuck", 1L).containsEntry("stuck_record_after_ms", 60_000L);

        slow.done();
        assertThat(check.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
        quick.done();
        assertThat(records.size()).isZero();
    }

    /** Records what the shared registry holds while it transforms. */
    static final class ObservingStep extends StepProcessor {
        private final List<List<RecordsInProcess.Stuck>> seen;

        ObservingStep(List<List<RecordsInProcess.Stuck>> seen) {
            super("test-step", Stage.SFT, new SimpleMeterRegistry());
            this.seen = seen;
        }

        @Override
        protected byte[] transform(String key, byte[] value, TopicOffset input) {
            seen.add(RecordsInProcess.shared().current().stream().filter(s -> s.step().equals("test-step/sft")).toList());
            if (key.equals("bug")) {
                throw new IllegalStateException("a bug");
            }
            return value;
        }
    }

    @Test
    void aStepProcessorReportsTheRecordItIsOnWithItsTopicPartitionAndOffsetUntilItIsDoneWhateverTheOutcome() {
        List<List<RecordsInProcess.Stuck>> seen = new ArrayList<>();
        Topology topology = new Topology();
        StepWiring.of(topology, Stage.SFT).source("in").processor(() -> new ObservingStep(seen)).output("out").deadLetters("dlq");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
            TestInputTopic<String, byte[]> in = driver.createInputTopic("in", Serdes.String().serializer(), Serdes.ByteArray().serializer());
            in.pipeInput("a", "x".getBytes(StandardCharsets.UTF_8));
            in.pipeInput("bug", "y".getBytes(StandardCharsets.UTF_8));
            in.pipeInput("b", "z".getBytes(StandardCharsets.UTF_8));
        }

        assertThat(seen).hasSize(3);
        assertThat(seen.get(0)).extracting(RecordsInProcess.Stuck::record).containsExactly("in-0@0");
        assertThat(seen.get(1)).extracting(RecordsInProcess.Stuck::record).containsExactly("in-0@1");
        assertThat(seen.get(2)).extracting(RecordsInProcess.Stuck::record).containsExactly("in-0@2");
        assertThat(RecordsInProcess.shared().current()).noneMatch(s -> s.step().equals("test-step/sft"));
    }
}
