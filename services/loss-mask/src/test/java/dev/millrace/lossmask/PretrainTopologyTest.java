package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** pretrain: the wrapped sequence from tokenize becomes core's rows, truncated or split into windows. */
class PretrainTopologyTest {
    private static final String SHORT = "A short text.";
    private static final String LONG = "word ".repeat(150).trim(); // several windows of T=64

    private static TokenizedRecord record(Driver d, String id, PretrainPreparer.Wrapped wrapped) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder().setEosAdded(wrapped.eosAdded());
        for (int token : wrapped.ids()) {
            side.addIds(token);
        }
        return TokenizedRecord.newBuilder().setRecordId(id).setStage(WireStage.PRETRAIN)
                .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW).addSides(side).build();
    }

    @Test
    void truncateMakesOneRowPerTextAsCoreDoes() throws Exception {
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), 2, Map.of())) {
            PretrainPreparer core = new PretrainPreparer(d.folder, Driver.T, null, Wrap.AUTO, false);
            d.send(Stage.PRETRAIN, "short", record(d, "short", core.wrap(SHORT)).toByteArray());
            d.send(Stage.PRETRAIN, "long", record(d, "long", core.wrap(LONG)).toByteArray());

            List<Batch> batches = d.batches(Stage.PRETRAIN);

            assertThat(batches).hasSize(1);
            Batch batch = batches.get(0);
            assertThat(batch.getBatchId()).isEqualTo("pretrain-p0-00000000");
            assertThat(batch.getStage()).isEqualTo(WireStage.PRETRAIN);
            assertThat(batch.getPacked()).isFalse();
            Rows.assertIs(batch.getRows(0), core.rows(core.wrap(SHORT)).get(0));
            List<Row> longRows = core.rows(core.wrap(LONG));
            assertThat(longRows).hasSize(1);
            Rows.assertIs(batch.getRows(1), longRows.get(0));
            assertThat(batch.getRows(1).getRecordsList()).containsExactly(
                    RecordRef.newBuilder().setRecordId("long").setRaw(Driver.RAW).build());
            assertThat(batch.getNonpadShare()).isEqualTo((double) batch.getNonpadTokens() / (2 * Driver.T));
            assertThat(batch.getTrainedShare()).isEqualTo((double) batch.getTrainedTokens() / (2 * Driver.T));
            assertThat(d.deadLetters()).isEmpty();
        }
    }

    @Test
    void splitMakesOneRowPerWindowEachNamingItsWindow() throws Exception {
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), 2, Map.of("millrace.pretrain.pretrain-overflow", "split"))) {
            PretrainPreparer core = new PretrainPreparer(d.folder, Driver.T, null, Wrap.AUTO, true);
            List<Row> windows = core.rows(core.wrap(LONG));
            assertThat(windows).as("the text needs several windows").hasSizeGreaterThan(2);
            d.send(Stage.PRETRAIN, "long", record(d, "long", core.wrap(LONG)).toByteArray());
            d.send(Stage.PRETRAIN, "short", record(d, "short", core.wrap(SHORT)).toByteArray());
            d.advance(Driver.LINGER);

            List<BatchRow> rows = new ArrayList<>();
            d.batches(Stage.PRETRAIN).forEach(b -> rows.addAll(b.getRowsList()));

            List<BatchRow> real = rows.stream().filter(r -> !r.getFiller()).toList();
            assertThat(real).hasSize(windows.size() + 1);
            for (int k = 0; k < windows.size(); k++) {
                Rows.assertIs(real.get(k), windows.get(k));
                assertThat(real.get(k).getRecordsList()).containsExactly(
                        RecordRef.newBuilder().setRecordId("long").setRaw(Driver.RAW).setWindow(k).build());
            }
            Rows.assertIs(real.get(windows.size()), core.rows(core.wrap(SHORT)).get(0));
            assertThat(real.get(windows.size()).getRecords(0).getWindow()).isZero();
            assertThat(rows).hasSize((real.size() + 1) / 2 * 2);
        }
    }

    @Test
    void aTextWithNothingToTrainIsADeadLetter() throws Exception {
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), 2, Map.of("millrace.pretrain.wrap", "never"))) {
            d.send(Stage.PRETRAIN, "empty", record(d, "empty", new PretrainPreparer.Wrapped(new int[0], false)).toByteArray());
            d.advance(Driver.LINGER);

            List<DeadLetter> letters = d.deadLetters();
            assertThat(letters).hasSize(1);
            assertThat(letters.get(0).getReason()).isEqualTo("NO_TRAINABLE_TOKENS");
            assertThat(letters.get(0).getRecordId()).isEqualTo("empty");
            assertThat(d.batches(Stage.PRETRAIN)).isEmpty();
        }
    }
}
