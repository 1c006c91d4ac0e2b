package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Stage;
import dev.millrace.core.mask.Row;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.Test;

/**
 * The open batch is kept row by row: at a realistic shape (B=64, T=8192) the changelog carries each
 * row about once per batch, not a copy of the whole open batch per row, and no changelog value comes
 * near Kafka's 1 MiB default message limit.
 */
class OpenBatchStateTest {
    private static final int B = 64;
    private static final int T = 8192;

    @Test
    void theChangelogCarriesAboutOneBatchPerBatchAtB64T8192() throws Exception {
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), B, Map.of("millrace.seq-len", String.valueOf(T),
                "millrace.pretrain.wrap", "never"))) {
            int vocab = d.folder.vocabSize();
            for (int r = 0; r < B; r++) {
                TokenizedSide.Builder side = TokenizedSide.newBuilder();
                for (int k = 0; k < T; k++) {
                    side.addIds((r * 7919 + k * 31) % vocab); // every id in the vocabulary, as large varints as real text
                }
                d.send(Stage.PRETRAIN, "r" + r, TokenizedRecord.newBuilder().setRecordId("r" + r).setStage(WireStage.PRETRAIN)
                        .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW).addSides(side).build().toByteArray());
            }

            List<Batch> batches = d.batches(Stage.PRETRAIN);
            assertThat(batches).hasSize(1);
            assertThat(batches.get(0).getRealRows()).isEqualTo(B);
            long batchBytes = batches.get(0).getSerializedSize();
            assertThat(batchBytes).as("the batch itself is past Kafka's 1 MiB default").isGreaterThan(1 << 20);

            List<KeyValue<String, byte[]>> changelog = d.changelog(Stage.PRETRAIN);
            long changelogBytes = 0;
            long largestValue = 0;
            for (KeyValue<String, byte[]> kv : changelog) {
                long value = kv.value == null ? 0 : kv.value.length;
                changelogBytes += kv.key.getBytes(StandardCharsets.UTF_8).length + value;
                largestValue = Math.max(largestValue, value);
            }
            assertThat(changelogBytes).as("changelog bytes written for one batch of %d bytes", batchBytes)
                    .isLessThan(batchBytes + batchBytes / 10);
            assertThat(largestValue).as("the largest changelog value: about one row").isLessThan(2L * batchBytes / B);
        }
    }

    @Test
    void anOpenBatchAnEarlierVersionStoredWholeIsCompletedWithTheNextRows() throws Exception {
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), 3, Map.of("millrace.pretrain.wrap", "never"))) {
            BatchRow earlier = row(d, 11);
            d.store(Stage.PRETRAIN).put(OpenBatch.WHOLE, Batch.newBuilder().setBatchId("pretrain-p0-00000000")
                    .setStage(WireStage.PRETRAIN).setTokenizerFingerprint(d.folder.fingerprint()).setSeqLen(Driver.T)
                    .setCreatedAtMs(0).addRows(earlier).build().toByteArray());

            d.send(Stage.PRETRAIN, "a", record(d, "a", 12).toByteArray());
            d.send(Stage.PRETRAIN, "b", record(d, "b", 13).toByteArray());

            List<Batch> batches = d.batches(Stage.PRETRAIN);
            assertThat(batches).hasSize(1);
            assertThat(batches.get(0).getBatchId()).isEqualTo("pretrain-p0-00000000");
            assertThat(batches.get(0).getRowsList()).extracting(r -> r.getRecords(0).getRecordId()).containsExactly("earlier", "a", "b");
            assertThat(batches.get(0).getRows(0)).isEqualTo(earlier);
            assertThat(d.store(Stage.PRETRAIN).get(OpenBatch.WHOLE)).isNull();
        }
    }

    private static TokenizedRecord record(Driver d, String id, int token) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder();
        for (int k = 0; k < 10; k++) {
            side.addIds(token);
        }
        return TokenizedRecord.newBuilder().setRecordId(id).setStage(WireStage.PRETRAIN)
                .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW).addSides(side).build();
    }

    private static BatchRow row(Driver d, int token) {
        int[] ids = new int[Driver.T];
        int[] mask = new int[Driver.T];
        java.util.Arrays.fill(ids, d.folder.padId());
        for (int k = 0; k < 10; k++) {
            ids[k] = token;
            mask[k] = 1;
        }
        return RowCodec.toProto(new Row(ids, mask, 10, false), List.of(RecordRef.newBuilder().setRecordId("earlier").build()), List.of());
    }
}
