package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.OutputTally;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.it.Expectations.Kind;
import dev.millrace.it.Expectations.Line;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.WireStage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole system as separate processes (a real broker, the packaged ingest, chat-template,
 * tokenize and loss-mask), fed over HTTP with the bundled sample plus hand-made lines; the batches
 * and dead letters are read back ({@code read_committed}) and compared, record by record, with what
 * core's {@code SftPreparer} (= {@code ./millrace prepare}) gives offline. Non-default T and B, so
 * the services are seen to take them from their configuration.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {
    static final int T = 256;
    static final int B = 8;
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    static final Duration SETTLE = Duration.ofSeconds(4);

    /** Hand-made lines appended to the sample: good ones of several shapes, and bad ones of both kinds. */
    static final List<String> HAND_MADE = List.of(
            // good, OpenAI shape, with a system message
            "{\"messages\": [{\"role\": \"system\", \"content\": \"You are terse.\"}, {\"role\": \"user\", \"content\": \"Name a prime number.\"},"
                    + " {\"role\": \"assistant\", \"content\": \"7\"}]}",
            // good, Chinese and emoji
            "{\"messages\": [{\"role\": \"user\", \"content\": \"把 good morning 翻译成中文 🌅\"}, {\"role\": \"assistant\", \"content\": \"早上好！☀️\"}]}",
            // good, MiniMind shape, ends in CRLF
            "{\"conversations\": [{\"role\": \"user\", \"content\": \"Say hi.\"}, {\"role\": \"assistant\", \"content\": \"Hi!\"}]}\r",
            "",
            // the same conversation twice, MiniMind and OpenAI shapes: one record id, so one row
            "{\"conversations\": [{\"role\": \"user\", \"content\": \"Is 91 prime?\"}, {\"role\": \"assistant\", \"content\": \"No: 91 = 7 × 13.\"}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"Is 91 prime?\"}, {\"role\": \"assistant\", \"content\": \"No: 91 = 7 × 13.\"}]}",
            // bad at ingest
            "this is not JSON",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"Anyone there?\"}]}",
            "{\"messages\": \"not a list\"}",
            // bad downstream: the user turn alone is longer than T, so truncation leaves nothing to train
            "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(60)
                    + "\"}, {\"role\": \"assistant\", \"content\": \"Noted.\"}]}",
            // good, multi-turn
            "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"},"
                    + " {\"role\": \"user\", \"content\": \"And 3+3?\"}, {\"role\": \"assistant\", \"content\": \"6\"}]}");

    LocalSystem system;
    Expectations expected;
    IngestClient.Answer answer;
    List<Batch> batches;
    List<DeadLetter> deadLetters;

    @BeforeAll
    void runTheSystem() throws Exception {
        byte[] body = body();
        expected = Expectations.of(body, T);
        // The hand-made lines must exercise what they are meant to.
        assertThat(expected.of(Kind.DOWNSTREAM_REJECT)).extracting(Line::reason).contains(Reason.NO_TRAINABLE_TOKENS);
        assertThat(expected.of(Kind.INGEST_REJECT)).hasSizeGreaterThanOrEqualTo(12);
        assertThat(expected.of(Kind.BLANK)).hasSize(1);

        Path root = Repo.packagedRoot();
        // Logs under target/, so that a CI run can keep them and `clean` removes them.
        Path target = Files.createDirectories(root.resolve("services/it/target"));
        system = LocalSystem.start(root, new LocalSystem.Options()
                .seqLen(T).batchSize(B).batchLingerMs(500).runDir(Files.createTempDirectory(target, "e2e-run-")).progress(System.err));
        answer = new IngestClient(system.ingestUri()).post(Stage.SFT, body);

        Set<String> ids = expected.acceptedIds();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), system.topics().batches(Stage.SFT), system.topics().dlq())) {
            boolean complete = false;
            while (!complete || output.quietFor().compareTo(SETTLE) < 0) {
                output.poll(Duration.ofMillis(500));
                OutputTally tally = OutputTally.of(values(output.batches()), values(output.deadLetters()));
                complete = complete || tally.complete(answer.accepted(), ids, true, output.quietFor(), SETTLE);
                if (System.nanoTime() > deadline) {
                    fail("after %s only %d of %d accepted records reached a batch row (%d) or a downstream dead letter (%d); %d ids missing; logs in %s",
                            TIMEOUT, tally.recordsInRows() + tally.downstreamDeadLetters(), answer.accepted(), tally.recordsInRows(),
                            tally.downstreamDeadLetters(), tally.missing(ids), system.logDir());
                }
            }
            assertThat(output.unreadable()).as("messages that are not their topic's protobuf type").isEmpty();
            batches = values(output.batches());
            deadLetters = values(output.deadLetters());
        }
    }

    @AfterAll
    void stop() {
        if (system != null) {
            system.close();
        }
    }

    @Test
    void ingestAcceptsEveryGoodLineAndRejectsEveryBadOneWithItsReason() {
        List<Line> ingestRejects = expected.of(Kind.INGEST_REJECT);
        assertThat(answer.status()).isEqualTo(422);
        assertThat(answer.accepted()).isEqualTo(expected.acceptedLines());
        assertThat(answer.rejected()).isEqualTo(ingestRejects.size());
        assertThat(answer.errors()).extracting(e -> e.line() + " " + e.reason())
                .containsExactlyInAnyOrderElementsOf(ingestRejects.stream().map(l -> l.number() + " " + l.reason()).toList());
    }

    @Test
    void everyGoodRecordReachesABatchRow() {
        Set<String> inRows = realRows().stream().flatMap(r -> r.getRecordsList().stream()).map(RecordRef::getRecordId).collect(Collectors.toSet());
        Set<String> missing = new HashSet<>(expected.goodById().keySet());
        missing.removeAll(inRows);
        assertThat(missing).as("record ids of good lines that are in no batch row (lines %s)",
                expected.of(Kind.GOOD).stream().filter(l -> missing.contains(l.recordId())).map(Line::number).toList()).isEmpty();
        Set<String> unexpected = new HashSet<>(inRows);
        unexpected.removeAll(expected.goodById().keySet());
        assertThat(unexpected).as("record ids in batch rows that no good line has").isEmpty();
    }

    @Test
    void everyGoodRecordIsInExactlyOneBatchRow() {
        Map<String, Integer> rowsPerId = new HashMap<>();
        for (BatchRow row : realRows()) {
            assertThat(row.getRecordsList()).as("records of an unpacked row").hasSize(1);
            rowsPerId.merge(row.getRecords(0).getRecordId(), 1, Integer::sum);
        }
        Map<String, List<Long>> repeated = expected.repeatedIds();
        Map<String, String> moreThanOnce = rowsPerId.entrySet().stream().filter(e -> e.getValue() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue() + " rows, input lines "
                        + repeated.getOrDefault(e.getKey(), List.of())));
        assertThat(moreThanOnce).as("record ids in more than one batch row: exact duplicates (the same record id) must be dropped "
                + "downstream (docs/architecture.md: chat-template drops exact duplicates; docs/cli.md: re-sending is harmless)").isEmpty();
    }

    @Test
    void everyRowEqualsWhatPrepareGivesOffline() {
        Map<String, Line> good = expected.goodById();
        for (BatchRow row : realRows()) {
            String id = row.getRecords(0).getRecordId();
            Line line = good.get(id);
            assertThat(line).as("a good line for record %s", id).isNotNull();
            assertThat(RowCodec.ids(row)).as("input_ids of line %d", line.number()).containsExactly(line.row().ids());
            assertThat(RowCodec.unpackMask(row.getLossMask(), T)).as("loss_mask of line %d", line.number()).containsExactly(line.row().mask());
            assertThat(row.getNonpadTokens()).as("nonpad_tokens of line %d", line.number()).isEqualTo(line.row().realLength());
            assertThat(row.getTrainedTokens()).as("trained_tokens of line %d", line.number()).isEqualTo(line.row().trainedTokens());
            assertThat(row.getRecords(0).getRaw().getTopic()).as("lineage of line %d", line.number()).isEqualTo(system.topics().raw(Stage.SFT));
        }
    }

    @Test
    void everyBatchHasExactlyBRowsWithFlaggedFillerRows() {
        assertThat(batches).isNotEmpty();
        assertThat(batches).extracting(Batch::getBatchId).doesNotHaveDuplicates();
        for (Batch batch : batches) {
            String b = batch.getBatchId();
            assertThat(batch.getStage()).as(b).isEqualTo(WireStage.SFT);
            assertThat(batch.getSeqLen()).as(b).isEqualTo(T);
            assertThat(batch.getRowsList()).as("rows of %s", b).hasSize(B);
            assertThat(batch.getPacked()).as(b).isFalse();
            assertThat(batch.getTokenizerFingerprint()).as(b).isEqualTo(expected.fingerprint);
            List<BatchRow> real = batch.getRowsList().stream().filter(r -> !r.getFiller()).toList();
            assertThat(real).as("real rows of %s", b).isNotEmpty();
            assertThat(batch.getRealRows()).as("real_rows of %s", b).isEqualTo(real.size());
            assertThat(batch.getNonpadTokens()).as(b).isEqualTo(real.stream().mapToLong(BatchRow::getNonpadTokens).sum());
            assertThat(batch.getTrainedTokens()).as(b).isEqualTo(real.stream().mapToLong(BatchRow::getTrainedTokens).sum());
            for (BatchRow row : batch.getRowsList()) {
                assertThat(row.getInputIdsCount()).as("ids in a row of %s", b).isEqualTo(T);
                if (row.getFiller()) {
                    assertThat(RowCodec.ids(row)).as("filler row of %s is all padding", b).containsOnly(expected.padId);
                    assertThat(RowCodec.unpackMask(row.getLossMask(), T)).as("filler row mask of %s", b).containsOnly(0);
                    assertThat(row.getRecordsList()).as("filler row of %s has no records", b).isEmpty();
                    assertThat(row.getNonpadTokens()).isZero();
                    assertThat(row.getTrainedTokens()).isZero();
                } else {
                    assertThat(row.getRecordsList()).as("real row of %s has its record", b).isNotEmpty();
                }
            }
        }
        long realRows = batches.stream().mapToLong(Batch::getRealRows).sum();
        assertThat(batches.size()).as("batches for %d rows in 2 partitions", realRows).isGreaterThanOrEqualTo((int) ((realRows + B - 1) / B));
    }

    @Test
    void everyRecordRejectedAtIngestIsExactlyOneDeadLetterWithItsOriginalBytes() {
        List<DeadLetter> atIngest = deadLetters.stream().filter(OutputTally::raisedAtIngest).toList();
        for (Line line : expected.of(Kind.INGEST_REJECT)) {
            List<DeadLetter> mine = atIngest.stream().filter(d -> d.getSource().getLine() == line.number()).toList();
            assertThat(mine).as("ingest dead letters for line %d", line.number()).hasSize(1);
            DeadLetter d = mine.get(0);
            assertThat(d.getReason()).as("reason of line %d", line.number()).isEqualTo(line.reason().name());
            assertThat(d.getOriginal().toByteArray()).as("original bytes of line %d", line.number()).isEqualTo(line.bytes());
            assertThat(d.getStage()).isEqualTo(WireStage.SFT);
            assertThat(d.getMessage()).as("message of line %d", line.number()).isNotBlank();
        }
        assertThat(atIngest).as("dead letters raised at ingest").hasSize(expected.of(Kind.INGEST_REJECT).size());
    }

    @Test
    void everyRecordRejectedDownstreamIsExactlyOneDeadLetterWithItsReason() throws InvalidProtocolBufferException {
        List<DeadLetter> downstream = deadLetters.stream().filter(d -> !OutputTally.raisedAtIngest(d)).toList();
        Set<String> ids = new HashSet<>();
        for (Line line : expected.of(Kind.DOWNSTREAM_REJECT)) {
            if (!ids.add(line.recordId())) {
                continue; // a duplicate of an earlier line
            }
            List<DeadLetter> mine = downstream.stream().filter(d -> d.getRecordId().equals(line.recordId())).toList();
            assertThat(mine).as("downstream dead letters for line %d (record %s)", line.number(), line.recordId()).hasSize(1);
            DeadLetter d = mine.get(0);
            assertThat(d.getReason()).as("reason of line %d", line.number()).isEqualTo(line.reason().name());
            assertThat(d.getMessage()).isNotBlank();
            if (line.reason() == Reason.NO_TRAINABLE_TOKENS) {
                // after truncation: the loss-mask service decides, on the tokenized record
                assertThat(d.getService()).isEqualTo("loss-mask");
                assertThat(d.getInput().getTopic()).isEqualTo(system.topics().tokenized(Stage.SFT));
                assertThat(TokenizedRecord.parseFrom(d.getOriginal()).getRecordId()).isEqualTo(line.recordId());
            }
        }
        assertThat(downstream).as("dead letters raised downstream").hasSize(ids.size());
    }

    @Test
    void nothingIsLeftOver() {
        List<String> rowIds = realRows().stream().map(r -> r.getRecords(0).getRecordId()).toList();
        assertThat(rowIds).as("no record is both in a row and a dead letter")
                .doesNotContainAnyElementsOf(deadLetters.stream().map(DeadLetter::getRecordId).filter(id -> !id.isEmpty()).toList());
        assertThat(system.deadServices()).as("processes that exited during the run").isEmpty();
    }

    private List<BatchRow> realRows() {
        List<BatchRow> rows = new ArrayList<>();
        batches.forEach(b -> b.getRowsList().stream().filter(r -> !r.getFiller()).forEach(rows::add));
        return rows;
    }

    private static <T> List<T> values(List<PipelineOutput.Read<T>> reads) {
        return reads.stream().map(PipelineOutput.Read::value).toList();
    }

    static byte[] sample() throws IOException {
        try (InputStream in = EndToEndTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            assertThat(in).as("the bundled sample").isNotNull();
            return in.readAllBytes();
        }
    }

    static byte[] body() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(sample());
        for (String line : HAND_MADE) {
            body.write(line.getBytes(StandardCharsets.UTF_8));
            body.write('\n');
        }
        return body.toByteArray();
    }
}
