package dev.millrace.lossmask;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.health.StreamRunningCheck;
import dev.millrace.streams.testing.FailureHandling;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.kafka.streams.runtime.KafkaStreamsProducer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.junit.jupiter.api.Test;

/**
 * The packaged service over a real broker (test profile: T=64, B=2, stages sft, pretrain, dpo;
 * pretrain split into windows and packed with a buffer of 5 examples).
 */
@QuarkusTest
@QuarkusTestResource(StagesKafkaResource.class)
class LossMaskServiceTest {
    @Inject
    KafkaStreamsProducer streams;
    @Inject
    StreamsUncaughtExceptionHandler uncaught;

    @Inject
    BatchSizeCheck batchSizeCheck;

    @Test
    void theStreamsClientRunsWithTheFailureHandlers() {
        FailureHandling.assertConfigured(streams.getStreamsConfig(), uncaught);
    }

    @Test
    void theLargestBatchOfEveryStageWasCheckedAgainstItsTopicAtStartup() {
        assertThat(batchSizeCheck.passed()).containsOnlyKeys("millrace.sft.batches", "millrace.pretrain.batches", "millrace.dpo.batches")
                .allSatisfy((topic, limit) -> assertThat(limit).isPositive());
    }

    private static final int T = 64;

    private static String bootstrap() {
        return LocalKafkaResource.bootstrapServers();
    }

    private static TokenizedSide side(int[] ids) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
        for (int id : ids) {
            side.addIds(id);
        }
        return side.build();
    }

    private static List<Batch> batches(String topic, int count) throws Exception {
        List<Batch> batches = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : TopicClient.read(bootstrap(), topic, count, Duration.ofSeconds(60))) {
            Batch b = Batch.parseFrom(r.value());
            assertThat(r.key()).isEqualTo(b.getBatchId());
            batches.add(b);
        }
        return batches;
    }

    @Test
    void aLoneRecordIsSentAfterTheLingerInAFullSizeBatch() throws Exception {
        TokenizedRecord.Builder in = TokenizedRecord.newBuilder().setRecordId("id-1").setStage(WireStage.SFT);
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            in.setTokenizerFingerprint(folder.fingerprint());
            in.addSides(side(folder.tokenizer().ids("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n")));
        }
        TopicClient.send(bootstrap(), "millrace.sft.tokenized", "id-1", in.build().toByteArray());

        List<Batch> out = batches("millrace.sft.batches", 1);

        assertThat(out).hasSize(1);
        Batch batch = out.get(0);
        assertThat(batch.getRowsCount()).isEqualTo(2);
        assertThat(batch.getRealRows()).isEqualTo(1);
        assertThat(batch.getRows(0).getRecords(0).getRecordId()).isEqualTo("id-1");
        assertThat(batch.getRows(1).getFiller()).isTrue();
        assertThat(batch.getPacked()).isFalse();
        assertThat(batch.getNonpadShare()).isEqualTo((double) batch.getNonpadTokens() / T);
        given().when().get("/q/health/ready").then().statusCode(200).body(containsString(StreamRunningCheck.NAME));
        given().when().get("/q/metrics").then().statusCode(200).body(containsString("millrace_batches_total"))
                .body(containsString("millrace_batch_nonpad_share"))
                .body(containsString("millrace_pack_buffered{stage=\"pretrain\"}"));
    }

    @Test
    void aBatchIdNamesThePartitionTheBatchIsOn() throws Exception {
        // B=2: two records on each tokenized partition fill one batch per partition
        List<String> ids = List.of("place-a", "place-b", "place-c", "place-d");
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            for (int i = 0; i < ids.size(); i++) {
                TokenizedRecord record = TokenizedRecord.newBuilder().setRecordId(ids.get(i)).setStage(WireStage.SFT)
                        .setTokenizerFingerprint(folder.fingerprint())
                        .addSides(side(folder.tokenizer().ids("<|im_start|>user\nq" + i + "<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n")))
                        .build();
                TopicClient.send(bootstrap(), "millrace.sft.tokenized", i % 2, ids.get(i), record.toByteArray());
            }
        }

        List<ConsumerRecord<String, byte[]>> placed = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!seen.containsAll(ids) && System.nanoTime() < deadline) {
            placed.clear();
            seen.clear();
            for (ConsumerRecord<String, byte[]> r : TopicClient.read(bootstrap(), "millrace.sft.batches", Integer.MAX_VALUE, Duration.ofSeconds(3))) {
                placed.add(r);
                Batch.parseFrom(r.value()).getRowsList().forEach(row -> row.getRecordsList().forEach(ref -> seen.add(ref.getRecordId())));
            }
        }

        assertThat(seen).containsAll(ids);
        assertThat(placed).extracting(r -> r.key() + " on partition " + r.partition())
                .allSatisfy(line -> assertThat(line).matches("sft-p(\\d+)-\\d+ on partition \\1"))
                .anySatisfy(line -> assertThat(line).endsWith("partition 0"))
                .anySatisfy(line -> assertThat(line).endsWith("partition 1"));
    }

    @Test
    void pretrainWindowsArePackedAsCoresPackerPacksThem() throws Exception {
        List<String> texts = List.of("word ".repeat(140).trim(), "A short text.", "Another, a little longer than that one.");
        List<PackedRow> expected = new ArrayList<>();
        List<RecordRef> refs = new ArrayList<>();
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            PretrainPreparer core = new PretrainPreparer(folder, T, null, Wrap.AUTO, true);
            Packer packer = new Packer(T, folder.padId(), 5);
            for (int i = 0; i < texts.size(); i++) {
                PretrainPreparer.Wrapped wrapped = core.wrap(texts.get(i));
                TokenizedSide.Builder side = TokenizedSide.newBuilder().setEosAdded(wrapped.eosAdded());
                for (int id : wrapped.ids()) {
                    side.addIds(id);
                }
                TopicClient.send(bootstrap(), "millrace.pretrain.tokenized", "t" + i, TokenizedRecord.newBuilder()
                        .setRecordId("t" + i).setStage(WireStage.PRETRAIN).setTokenizerFingerprint(folder.fingerprint())
                        .addSides(side).build().toByteArray());
                List<Row> windows = core.rows(wrapped);
                for (int k = 0; k < windows.size(); k++) {
                    expected.addAll(packer.add(Rows.realIds(windows.get(k)), Rows.realMask(windows.get(k)), refs.size()));
                    refs.add(RecordRef.newBuilder().setRecordId("t" + i).setWindow(k).build());
                }
            }
            assertThat(refs).as("the buffer of 5 examples is exactly full").hasSize(5);
            assertThat(packer.buffered()).isZero();
        }

        List<Batch> batches = batches("millrace.pretrain.batches", (expected.size() + 1) / 2);

        List<BatchRow> rows = new ArrayList<>();
        for (Batch b : batches) {
            assertThat(b.getPacked()).isTrue();
            b.getRowsList().stream().filter(r -> !r.getFiller()).forEach(rows::add);
        }
        assertThat(rows).hasSize(expected.size());
        for (int r = 0; r < rows.size(); r++) {
            Rows.assertIs(rows.get(r), expected.get(r));
            assertThat(rows.get(r).getRecordsList()).extracting(RecordRef::getRecordId, RecordRef::getWindow)
                    .containsExactlyElementsOf(expected.get(r).lines().stream()
                            .map(i -> org.assertj.core.groups.Tuple.tuple(refs.get(i.intValue()).getRecordId(), refs.get(i.intValue()).getWindow()))
                            .toList());
        }
    }

    @Test
    void aDpoPairIsOneIndexOfRowsAndRejectedRows() throws Exception {
        String chosen = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n";
        String rejected = "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\nfive<|im_end|>\n";
        Row chosenRow;
        Row rejectedRow;
        int padId;
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, T, null));
            chosenRow = core.mask(folder.tokenizer().ids(chosen), null).row();
            rejectedRow = core.mask(folder.tokenizer().ids(rejected), null).row();
            padId = folder.padId();
            TopicClient.send(bootstrap(), "millrace.dpo.tokenized", "p1", TokenizedRecord.newBuilder().setRecordId("p1")
                    .setStage(WireStage.DPO).setTokenizerFingerprint(folder.fingerprint())
                    .addSides(side(folder.tokenizer().ids(chosen))).addSides(side(folder.tokenizer().ids(rejected)))
                    .build().toByteArray());
        }

        Batch batch = batches("millrace.dpo.batches", 1).get(0);

        assertThat(batch.getRealRows()).isEqualTo(1);
        Rows.assertIs(batch.getRows(0), chosenRow);
        Rows.assertIs(batch.getRejectedRows(0), rejectedRow);
        Rows.assertFiller(batch.getRows(1), T, padId);
        Rows.assertFiller(batch.getRejectedRows(1), T, padId);
        assertThat(batch.getNonpadShare()).isEqualTo((double) (chosenRow.realLength() + rejectedRow.realLength()) / (2 * T));
    }
}
