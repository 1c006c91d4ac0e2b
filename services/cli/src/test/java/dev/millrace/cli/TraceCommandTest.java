package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace trace} against a real broker: batches and raw records written as the services
 * write them (batches in transactions, raw records plainly), then traced in-process.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TraceCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String RAW = "millrace.sft.raw";
    static final String BATCHES = "millrace.sft.batches";

    InProcessBroker broker;
    long rawA;
    long rawB;

    @BeforeAll
    void writeTopics(@TempDir Path dir) throws Exception {
        broker = new InProcessBroker(dir.resolve("kafka"), RAW, BATCHES, "millrace.pretrain.raw", "millrace.pretrain.batches",
                "millrace.dpo.raw", "millrace.dpo.batches", "other.sft.batches");
        rawA = broker.plain(RAW, 1, "id-a", raw("id-a", "req-1", 3).toByteArray());
        broker.plain(RAW, 1, "id-x", raw("id-x", "req-1", 4).toByteArray());
        rawB = broker.plain(RAW, 1, "id-b", raw("id-b", "req-2", 1).toByteArray());
        // an unrelated batch before, the traced one, and one whose transaction was aborted
        broker.committed(BATCHES, 0, "sft-p0-00000000", batch("sft-p0-00000000", WireStage.SFT, row(ref("id-x", RAW, 1, rawA + 1))).toByteArray());
        broker.committed(BATCHES, 1, "sft-p1-00000004", batch("sft-p1-00000004", WireStage.SFT,
                row(ref("id-a", RAW, 1, rawA)), row(ref("id-b", RAW, 1, rawB)), filler(), row(ref("id-gone", RAW, 0, 999))).toByteArray());
        broker.aborted(BATCHES, 0, "sft-p0-00000009", batch("sft-p0-00000009", WireStage.SFT, row(ref("id-a", RAW, 1, rawA))).toByteArray());
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void printsOneJsonLinePerRowRecordWithItsSource() throws Exception {
        CliRun run = CliRun.of("trace", "sft-p1-00000004", "--bootstrap", broker.bootstrap(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<JsonNode> lines = json(run);
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo(JSON.readTree("{\"batch_id\": \"sft-p1-00000004\", \"row\": 0, \"record_id\": \"id-a\","
                + " \"raw\": {\"topic\": \"millrace.sft.raw\", \"partition\": 1, \"offset\": " + rawA + "},"
                + " \"source\": {\"kind\": \"http\", \"name\": \"req-1\", \"line\": 3}}"));
        assertThat(lines.get(1).path("record_id").asText()).isEqualTo("id-b");
        assertThat(lines.get(1).path("raw").path("offset").asLong()).isEqualTo(rawB);
        assertThat(lines.get(1).path("source")).isEqualTo(JSON.readTree("{\"kind\": \"http\", \"name\": \"req-2\", \"line\": 1}"));
        assertThat(lines.get(2)).isEqualTo(JSON.readTree("{\"batch_id\": \"sft-p1-00000004\", \"row\": 2, \"filler\": true}"));
        // a raw offset that is not there: the line says so instead of inventing a source
        assertThat(lines.get(3).has("source")).isFalse();
        assertThat(lines.get(3).path("problem").asText()).contains("no message at that offset");
    }

    @Test
    void printsAHumanTableByDefault() {
        CliRun run = CliRun.of("trace", "sft-p1-00000004", "--bootstrap", broker.bootstrap());

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines.get(0)).startsWith("batch sft-p1-00000004 on millrace.sft.batches partition 1 offset ")
                .contains("stage sft", "T=8", "4 rows (3 real)");
        assertThat(lines.get(1)).startsWith("ROW").contains("RECORD", "RAW", "SOURCE").doesNotContain("WINDOW", "SIDE");
        assertThat(lines.get(2)).matches("0 +id-a +millrace\\.sft\\.raw/1@" + rawA + " +http:req-1:3");
        assertThat(lines.get(4)).contains("filler");
        assertThat(lines).hasSize(6);
    }

    @Test
    void aBatchThatIsNotThereIsExitStatusOne() {
        CliRun missing = CliRun.of("trace", "sft-p0-00000077", "--bootstrap", broker.bootstrap());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.out()).isEmpty();
        assertThat(missing.err()).contains("batch sft-p0-00000077 not found on millrace.sft.batches");

        // written in a transaction that was aborted: read_committed never sees it
        CliRun aborted = CliRun.of("trace", "sft-p0-00000009", "--bootstrap", broker.bootstrap());
        assertThat(aborted.exitCode()).isEqualTo(1);
        assertThat(aborted.err()).contains("not found");
    }

    @Test
    void stageAndPrefixCanBeGiven() throws Exception {
        broker.committed("other.sft.batches", 0, "custom-id", batch("custom-id", WireStage.SFT, row(ref("id-a", RAW, 1, rawA))).toByteArray());

        CliRun noStage = CliRun.of("trace", "custom-id", "--bootstrap", broker.bootstrap());
        assertThat(noStage.exitCode()).isEqualTo(2);
        assertThat(noStage.err()).contains("--stage");

        CliRun run = CliRun.of("trace", "custom-id", "--stage", "sft", "--topic-prefix", "other", "--bootstrap", broker.bootstrap(), "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(json(run)).singleElement().satisfies(l -> assertThat(l.path("source").path("name").asText()).isEqualTo("req-1"));

        assertThat(CliRun.of("trace", "x", "--stage", "nope", "--bootstrap", broker.bootstrap()).exitCode()).isEqualTo(2);
        CliRun noTopic = CliRun.of("trace", "sft-p0-00000000", "--topic-prefix", "absent", "--bootstrap", broker.bootstrap());
        assertThat(noTopic.exitCode()).isEqualTo(1);
        assertThat(noTopic.err()).contains("topic absent.sft.batches does not exist");
    }

    @Test
    void tombstonesAreNeitherBatchesNorRawRecords() throws Exception {
        long tombstone = broker.plain(RAW, 0, "id-t", null);
        broker.committed("other.sft.batches", 1, "with-tombstone", null);
        broker.committed("other.sft.batches", 1, "with-tombstone", batch("with-tombstone", WireStage.SFT, row(ref("id-t", RAW, 0, tombstone))).toByteArray());

        CliRun run = CliRun.of("trace", "with-tombstone", "--stage", "sft", "--topic-prefix", "other", "--bootstrap", broker.bootstrap(), "--json");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).as("the tombstone with the batch's key is no second copy").doesNotContain("occurs");
        assertThat(json(run)).singleElement().satisfies(l -> {
            assertThat(l.has("source")).isFalse();
            assertThat(l.path("problem").asText()).contains("tombstone");
        });
    }

    @Test
    void pretrainWindowsAndDpoSidesAreShown() throws Exception {
        long p = broker.plain("millrace.pretrain.raw", 0, "t-1", raw("t-1", "corpus.jsonl", 9).toByteArray());
        broker.committed("millrace.pretrain.batches", 0, "pretrain-p0-00000000", batch("pretrain-p0-00000000", WireStage.PRETRAIN,
                row(ref("t-1", "millrace.pretrain.raw", 0, p).toBuilder().setWindow(0).build()),
                row(ref("t-1", "millrace.pretrain.raw", 0, p).toBuilder().setWindow(1).build())).toByteArray());
        CliRun pretrain = CliRun.of("trace", "pretrain-p0-00000000", "--bootstrap", broker.bootstrap(), "--json");
        assertThat(pretrain.exitCode()).as(pretrain.err()).isZero();
        assertThat(json(pretrain)).extracting(l -> l.path("window").asInt() + " " + l.path("source").path("name").asText())
                .containsExactly("0 corpus.jsonl", "1 corpus.jsonl");
        assertThat(CliRun.of("trace", "pretrain-p0-00000000", "--bootstrap", broker.bootstrap()).outLines().get(1)).contains("WINDOW");

        long d = broker.plain("millrace.dpo.raw", 1, "pair-1", raw("pair-1", "req-9", 2).toByteArray());
        Batch dpo = batch("dpo-p1-00000000", WireStage.DPO, row(ref("pair-1", "millrace.dpo.raw", 1, d))).toBuilder()
                .addRejectedRows(row(ref("pair-1", "millrace.dpo.raw", 1, d))).build();
        broker.committed("millrace.dpo.batches", 1, dpo.getBatchId(), dpo.toByteArray());
        CliRun pairs = CliRun.of("trace", "dpo-p1-00000000", "--bootstrap", broker.bootstrap(), "--json");
        assertThat(pairs.exitCode()).as(pairs.err()).isZero();
        assertThat(json(pairs)).extracting(l -> l.path("row").asInt() + " " + l.path("side").asText() + " " + l.path("record_id").asText())
                .containsExactly("0 chosen pair-1", "0 rejected pair-1");
    }

    static RawRecord raw(String id, String sourceName, long line) {
        return RawRecord.newBuilder().setRecordId(id).setStage(WireStage.SFT).setNormalisedJson("{\"text\":\"" + id + "\"}")
                .setSource(Source.newBuilder().setKind("http").setName(sourceName).setLine(line)).build();
    }

    static RecordRef ref(String id, String topic, int partition, long offset) {
        return RecordRef.newBuilder().setRecordId(id)
                .setRaw(TopicOffset.newBuilder().setTopic(topic).setPartition(partition).setOffset(offset)).build();
    }

    static BatchRow row(RecordRef ref) {
        return BatchRow.newBuilder().addAllInputIds(List.of(1, 2, 3, 4, 5, 0, 0, 0)).addRecords(ref).setNonpadTokens(5).setTrainedTokens(2).build();
    }

    static BatchRow filler() {
        return BatchRow.newBuilder().addAllInputIds(List.of(0, 0, 0, 0, 0, 0, 0, 0)).setFiller(true).build();
    }

    static Batch batch(String id, WireStage stage, BatchRow... rows) {
        long real = List.of(rows).stream().filter(r -> !r.getFiller()).count();
        return Batch.newBuilder().setBatchId(id).setStage(stage).setSeqLen(8).setTokenizerFingerprint("fp")
                .addAllRows(List.of(rows)).setRealRows((int) real).build();
    }

    private static List<JsonNode> json(CliRun run) {
        return run.outLines().stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + l, e);
            }
        }).toList();
    }
}
