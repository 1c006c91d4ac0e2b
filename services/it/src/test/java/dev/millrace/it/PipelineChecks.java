package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.OutputTally;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.it.Expectations.Line;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Waiting for a running system's output and the checks the exactly-once and dead-letter tests share. */
final class PipelineChecks {
    static final Duration SETTLE = Duration.ofSeconds(4);

    private PipelineChecks() {
    }

    /**
     * Settings for runs that kill a service: the broker notices the dead group member after 6 s instead
     * of the 45 s default session timeout, so the restarted service gets its partitions back sooner.
     */
    static LocalSystem.Options quickFailover(LocalSystem.Options options) {
        return options.property("kafka-streams.consumer.session.timeout.ms", "6000")
                .property("kafka-streams.consumer.heartbeat.interval.ms", "2000");
    }

    /** What the pipeline produced: batches and dead letters, read_committed, from the beginning. */
    record Output(List<Batch> batches, List<DeadLetter> deadLetters) {
    }

    /**
     * Reads batches and dead letters until every id in {@code ids} is in a batch row or a downstream
     * dead letter and nothing more arrived for {@link #SETTLE}; fails after {@code timeout}.
     */
    static Output await(LocalSystem system, Stage stage, Set<String> ids, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), system.topics().batches(stage), system.topics().dlq())) {
            boolean complete = false;
            while (!complete || output.quietFor().compareTo(SETTLE) < 0) {
                output.poll(Duration.ofMillis(500));
                OutputTally tally = OutputTally.of(values(output.batches()), values(output.deadLetters()));
                complete = complete || tally.missing(ids) == 0;
                if (System.nanoTime() > deadline) {
                    fail("after %s, %d of %d record ids have reached no batch row or downstream dead letter; dead services: %s; logs in %s",
                            timeout, tally.missing(ids), ids.size(), system.deadServices(), system.logDir());
                }
            }
            assertThat(output.unreadable()).as("messages that are not their topic's protobuf type").isEmpty();
            return new Output(values(output.batches()), values(output.deadLetters()));
        }
    }

    /**
     * Exactly once at the batches: every good record id in exactly one real batch row, no other id in
     * any row, and each row equal, id for id and mask bit for mask bit, to what core's SftPreparer gives.
     */
    static void assertEveryGoodRecordInExactlyOneRow(Expectations expected, List<Batch> batches, int seqLen) {
        Map<String, Line> good = expected.goodById();
        Map<String, Integer> rowsPerId = new TreeMap<>();
        for (Batch batch : batches) {
            assertThat(batch.getTokenizerFingerprint()).as(batch.getBatchId()).isEqualTo(expected.fingerprint);
            for (BatchRow row : batch.getRowsList()) {
                if (row.getFiller()) {
                    continue;
                }
                assertThat(row.getRecordsList()).as("records of an unpacked row of %s", batch.getBatchId()).hasSize(1);
                String id = row.getRecords(0).getRecordId();
                rowsPerId.merge(id, 1, Integer::sum);
                Line line = good.get(id);
                assertThat(line).as("a good input line for record %s (row of %s)", id, batch.getBatchId()).isNotNull();
                assertThat(RowCodec.ids(row)).as("input_ids of line %d", line.number()).containsExactly(line.row().ids());
                assertThat(RowCodec.unpackMask(row.getLossMask(), seqLen)).as("loss_mask of line %d", line.number())
                        .containsExactly(line.row().mask());
            }
        }
        Map<String, Integer> notOnce = new HashMap<>();
        for (String id : good.keySet()) {
            int n = rowsPerId.getOrDefault(id, 0);
            if (n != 1) {
                notOnce.put(id, n);
            }
        }
        assertThat(notOnce).as("good record ids not in exactly one batch row (id -> rows)").isEmpty();
        assertThat(batches).extracting(Batch::getBatchId).as("batch ids").doesNotHaveDuplicates();
    }

    /** Every downstream-rejected record id is exactly one downstream dead letter with its reason. */
    static void assertEveryDownstreamRejectIsOneDeadLetter(Expectations expected, List<DeadLetter> deadLetters) {
        Map<String, List<String>> byId = new HashMap<>();
        deadLetters.stream().filter(d -> !OutputTally.raisedAtIngest(d))
                .forEach(d -> byId.computeIfAbsent(d.getRecordId(), k -> new ArrayList<>()).add(d.getReason()));
        Map<String, String> expectedReasons = new HashMap<>();
        expected.of(Expectations.Kind.DOWNSTREAM_REJECT).forEach(l -> expectedReasons.putIfAbsent(l.recordId(), l.reason().name()));
        Map<String, List<String>> want = new HashMap<>();
        expectedReasons.forEach((id, reason) -> want.put(id, List.of(reason)));
        assertThat(byId).as("downstream dead letters by record id").isEqualTo(want);
    }

    /** The keys of every committed message on {@code topic}, in partition and offset order. */
    static List<String> keys(String bootstrap, String topic) {
        List<String> keys = new ArrayList<>();
        try (TopicScan scan = new TopicScan(bootstrap)) {
            scan.readAll(topic, r -> keys.add(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8)));
        }
        return keys;
    }

    private static <T> List<T> values(List<PipelineOutput.Read<T>> reads) {
        return reads.stream().map(PipelineOutput.Read::value).toList();
    }
}
