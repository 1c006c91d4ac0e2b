package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Packing on: rows are what core's {@link Packer} makes of the same examples in arrival order,
 * with segment and position ids and one record ref per example; a partly filled pack buffer is
 * packed once it has lingered.
 */
class PackingTopologyTest {
    private static final int B = 2;
    private static final int BUFFER = 4;

    private static String chat(String user, String assistant) {
        return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + assistant + "<|im_end|>\n";
    }

    private static final List<String> CHATS = List.of(
            chat("Hi", "Hello!"),
            chat("What is the capital of France, and why?", "Paris, since the kings lived there."),
            chat("2+2?", "4"),
            chat("Name three colours", "Red, green and blue."),
            chat("Say yes", "Yes."),
            chat("Count to five", "One, two, three, four, five."));

    private static TokenizedRecord conversation(Driver d, Stage stage, String id, String text, long rawOffset) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
        for (int token : d.folder.tokenizer().ids(text)) {
            side.addIds(token);
        }
        return TokenizedRecord.newBuilder().setRecordId(id).setStage(StageCodec.toWire(stage))
                .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW.toBuilder().setOffset(rawOffset))
                .addSides(side).build();
    }

    private static List<BatchRow> realRows(List<Batch> batches) {
        List<BatchRow> rows = new ArrayList<>();
        batches.forEach(b -> b.getRowsList().stream().filter(r -> !r.getFiller()).forEach(rows::add));
        return rows;
    }

    private static double gauge(Driver d, String name, Stage stage) {
        return d.registry.get(name).tag("stage", stage.id()).gauge().value();
    }

    @Test
    void sftRowsAreThePackersRowsAndALingeringBufferIsPacked() throws Exception {
        try (Driver d = new Driver(List.of(Stage.SFT), B, Map.of("millrace.sft.packing", "on", "millrace.sft.pack-buffer", "" + BUFFER))) {
            SftPreparer core = new SftPreparer(d.folder, new SftOptions(Stage.SFT, Driver.T, null));
            Packer packer = new Packer(Driver.T, d.folder.padId(), BUFFER);
            List<PackedRow> expected = new ArrayList<>();
            List<TokenizedRecord> sent = new ArrayList<>();
            for (int i = 0; i < CHATS.size(); i++) {
                TokenizedRecord in = conversation(d, Stage.SFT, "r" + i, CHATS.get(i), 100 + i);
                sent.add(in);
                d.send(Stage.SFT, "r" + i, in.toByteArray());
                Row example = core.mask(d.folder.tokenizer().ids(CHATS.get(i)), null).row();
                expected.addAll(packer.add(Rows.realIds(example), Rows.realMask(example), i));
            }
            int packedBeforeLinger = expected.size();
            assertThat(gauge(d, "millrace.pack.buffered", Stage.SFT)).isEqualTo(CHATS.size() - BUFFER);
            List<Batch> early = d.batches(Stage.SFT);
            assertThat(realRows(early)).as("only the full buffer is packed so far").hasSize(packedBeforeLinger - packedBeforeLinger % B);

            d.advance(Driver.PACK_LINGER);
            assertThat(gauge(d, "millrace.pack.buffered", Stage.SFT)).isZero();
            d.advance(Driver.LINGER);
            expected.addAll(packer.finish());

            List<Batch> batches = new ArrayList<>(early);
            batches.addAll(d.batches(Stage.SFT));
            List<BatchRow> rows = realRows(batches);
            assertThat(rows).hasSize(expected.size());
            for (int r = 0; r < rows.size(); r++) {
                Rows.assertIs(rows.get(r), expected.get(r));
                List<RecordRef> refs = new ArrayList<>();
                for (long i : expected.get(r).lines()) {
                    refs.add(RecordRef.newBuilder().setRecordId("r" + i).setRaw(sent.get((int) i).getRaw()).build());
                }
                assertThat(rows.get(r).getRecordsList()).containsExactlyElementsOf(refs);
            }
            assertThat(rows.stream().mapToInt(BatchRow::getRecordsCount).sum()).isEqualTo(CHATS.size());
            assertThat(rows).anySatisfy(r -> assertThat(r.getRecordsCount()).isGreaterThan(1));
            for (Batch b : batches) {
                assertThat(b.getPacked()).isTrue();
                assertThat(b.getRowsCount()).isEqualTo(B);
                assertThat(b.getNonpadShare()).isEqualTo((double) b.getNonpadTokens() / (b.getRealRows() * Driver.T));
            }
            assertThat(d.registry.get("millrace.pack.examples").tag("stage", "sft").counter().count()).isEqualTo(CHATS.size());
            assertThat(d.registry.get("millrace.batch.nonpad.share").tag("stage", "sft").summary().count()).isEqualTo(batches.size());
            assertThat(d.deadLetters()).isEmpty();
        }
    }

    @Test
    void eachPretrainWindowIsAnExampleOfItsOwn() throws Exception {
        Map<String, String> config = Map.of("millrace.pretrain.packing", "on", "millrace.pretrain.pack-buffer", "" + BUFFER,
                "millrace.pretrain.pretrain-overflow", "split");
        try (Driver d = new Driver(List.of(Stage.PRETRAIN), B, config)) {
            PretrainPreparer core = new PretrainPreparer(d.folder, Driver.T, null, Wrap.AUTO, true);
            List<String> texts = List.of("word ".repeat(70).trim(), "A short text.", "Another one, a little longer than that.");
            Packer packer = new Packer(Driver.T, d.folder.padId(), BUFFER);
            List<PackedRow> expected = new ArrayList<>();
            List<RecordRef> refs = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                PretrainPreparer.Wrapped wrapped = core.wrap(texts.get(i));
                TokenizedSide.Builder side = TokenizedSide.newBuilder().setEosAdded(wrapped.eosAdded());
                for (int id : wrapped.ids()) {
                    side.addIds(id);
                }
                d.send(Stage.PRETRAIN, "t" + i, TokenizedRecord.newBuilder().setRecordId("t" + i)
                        .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW).addSides(side).build().toByteArray());
                List<Row> windows = core.rows(wrapped);
                for (int k = 0; k < windows.size(); k++) {
                    expected.addAll(packer.add(Rows.realIds(windows.get(k)), Rows.realMask(windows.get(k)), refs.size()));
                    refs.add(RecordRef.newBuilder().setRecordId("t" + i).setRaw(Driver.RAW).setWindow(k).build());
                }
            }
            expected.addAll(packer.finish());
            assertThat(refs).as("the long text is split").hasSizeGreaterThan(texts.size());
            d.advance(Driver.PACK_LINGER);
            d.advance(Driver.LINGER);

            List<BatchRow> rows = realRows(d.batches(Stage.PRETRAIN));

            assertThat(rows).hasSize(expected.size());
            for (int r = 0; r < rows.size(); r++) {
                Rows.assertIs(rows.get(r), expected.get(r));
                assertThat(rows.get(r).getRecordsList()).containsExactlyElementsOf(
                        expected.get(r).lines().stream().map(i -> refs.get(i.intValue())).toList());
            }
        }
    }

    @Test
    void distillIsPackedLikeSftWhenAsked() throws Exception {
        try (Driver d = new Driver(List.of(Stage.DISTILL), B, Map.of("millrace.distill.packing", "on", "millrace.pack-buffer", "2"))) {
            SftPreparer core = new SftPreparer(d.folder, new SftOptions(Stage.DISTILL, Driver.T, null));
            Packer packer = new Packer(Driver.T, d.folder.padId(), 2);
            List<PackedRow> expected = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                d.send(Stage.DISTILL, "d" + i, conversation(d, Stage.DISTILL, "d" + i, CHATS.get(i), i).toByteArray());
                Row example = core.mask(d.folder.tokenizer().ids(CHATS.get(i)), null).row();
                expected.addAll(packer.add(Rows.realIds(example), Rows.realMask(example), i));
            }
            d.advance(Duration.ofMillis(Driver.LINGER.toMillis()));

            List<Batch> batches = d.batches(Stage.DISTILL);
            List<BatchRow> rows = realRows(batches);
            assertThat(rows).hasSize(expected.size());
            for (int r = 0; r < rows.size(); r++) {
                Rows.assertIs(rows.get(r), expected.get(r));
            }
            assertThat(batches.get(0).getBatchId()).startsWith("distill-p0-");
        }
    }
}
