package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EvalSet} on prepare's rows of the bundled SFT sample: the mean loss over all rows equals the numpy
 * reference's loss of the same rows, each record's loss equals the trainer's loss of its row alone, rejected
 * lines are reported and excluded, and the batch size does not change any number.
 */
class EvalSetTest {
    private static final double TOLERANCE = 1e-4;
    private static final int SEQ_LEN = 48;

    @TempDir
    Path dir;

    @Test
    void meanLossEqualsTheNumpyReferenceOnPreparesRows() throws Exception {
        Path checkpoint;
        try (MiniMind written = TestBatches.sharpModel(TestBatches.tiny(), 3); AdamW adamw = new AdamW(AdamW.Settings.defaults(), written.weights())) {
            TrainerState state = new TrainerState(0, 0, "sft", TestBatches.FINGERPRINT, "tiny", Map.of(), List.of(), 0, 0, null);
            checkpoint = new CheckpointStore(dir.resolve("checkpoints"), 1)
                    .write(0, d -> Checkpoint.write(d, written, adamw, state, TokenizerFolder.bundledPath()));
        }
        Path input = dir.resolve("eval.jsonl");
        List<String> lines = new ArrayList<>(sample(5));
        lines.add(2, "{\"conversations\": \"not a list\"}");
        lines.add(4, "");
        Files.write(input, lines, StandardCharsets.UTF_8);

        EvalSet set;
        try (TokenizerFolder folder = TokenizerFolder.open(checkpoint)) {
            set = EvalSet.prepare(input, Stage.SFT, SEQ_LEN, EvalSet.defaultPreparer(Stage.SFT, folder, SEQ_LEN));
        }
        System.out.println("rejected: " + set.rejected());
        // Every non-blank line is either a record or a rejection (T=48 cuts some replies away entirely).
        List<Long> seen = new ArrayList<>();
        set.records().forEach(r -> seen.add(r.line()));
        set.rejected().forEach(r -> seen.add(r.line()));
        assertThat(seen).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 6L, 7L);
        assertThat(set.rejected()).extracting(Prepared.Rejected::line).contains(3L);
        assertThat(set.records()).hasSizeGreaterThanOrEqualTo(3);

        try (MiniMind model = Checkpoint.loadModel(checkpoint)) {
            EvalSet.Result byTwo = set.evaluate(model, 2);
            EvalSet.Result all = set.evaluate(model, 16);

            Batch.Builder batch = Batch.newBuilder().setBatchId("eval").setStage(WireStage.SFT).setSeqLen(SEQ_LEN);
            set.rows().forEach(row -> batch.addRows(RowCodec.toProto(row, List.of(), List.of())));
            NumpyReference.Result reference = NumpyReference.run(checkpoint, batch.build(), dir, model.config().vocabSize());

            System.out.printf("eval mean loss %.6f, numpy reference %.6f over %d tokens%n", byTwo.meanLoss(), reference.loss(), byTwo.trainedTokens());
            assertThat((double) byTwo.trainedTokens()).isEqualTo(reference.weightSum());
            assertThat(Math.abs(byTwo.meanLoss() - reference.loss())).isLessThanOrEqualTo(TOLERANCE * Math.max(1, Math.abs(reference.loss())));
            assertThat(all.meanLoss()).isCloseTo(byTwo.meanLoss(), org.assertj.core.data.Offset.offset(1e-5));

            // Each record's loss is that of its row alone; the mean is over tokens, not a mean of the records' means.
            Trainer trainer = new Trainer(model, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0);
            double meanOfMeans = 0;
            for (EvalSet.RecordLoss r : byTwo.records()) {
                Batch.Builder one = Batch.newBuilder().setBatchId("one").setStage(WireStage.SFT).setSeqLen(SEQ_LEN)
                        .addRows(RowCodec.toProto(r.record().rows().get(0), List.of(), List.of()));
                double alone = trainer.loss(dev.millrace.training.train.BatchTensors.from(one.build()));
                assertThat(r.loss()).isCloseTo(alone, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(alone))));
                meanOfMeans += r.loss() / byTwo.records().size();
            }
            assertThat(Math.abs(meanOfMeans - byTwo.meanLoss())).as("records of different lengths").isGreaterThan(1e-3);
        }
    }

    @Test
    void aDistillFileIsPreparedAndEvaluatedAsSft() throws Exception {
        Path input = dir.resolve("distill.jsonl");
        try (InputStream in = EvalSetTest.class.getResourceAsStream("/millrace/samples/distill.jsonl")) {
            Files.write(input, new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(8).toList(), StandardCharsets.UTF_8);
        }
        EvalSet distill;
        EvalSet sft;
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            distill = EvalSet.prepare(input, Stage.DISTILL, SEQ_LEN, EvalSet.defaultPreparer(Stage.DISTILL, folder, SEQ_LEN));
            sft = EvalSet.prepare(input, Stage.SFT, SEQ_LEN, EvalSet.defaultPreparer(Stage.SFT, folder, SEQ_LEN));
        }
        assertThat(distill.stage()).isEqualTo(Stage.DISTILL);
        assertThat(distill.records()).isNotEmpty();
        assertThat(distill.rejected()).as("line 5 is a prompt for the teacher: nothing to evaluate").extracting(Prepared.Rejected::line).contains(5L);
        assertThat(distill.records().stream().mapToLong(EvalSet.Record::trainedTokens).sum()).isPositive();
        // Answered distill conversations are prepared exactly as SFT: the same rows, so the same loss.
        assertThat(distill.rows()).hasSameSizeAs(sft.rows());
        for (int i = 0; i < distill.rows().size(); i++) {
            assertThat(distill.rows().get(i).ids()).as("row %d", i).containsExactly(sft.rows().get(i).ids());
            assertThat(distill.rows().get(i).mask()).as("row %d", i).containsExactly(sft.rows().get(i).mask());
        }
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 4)) {
            assertThat(distill.evaluate(model, 4).meanLoss()).isEqualTo(sft.evaluate(model, 4).meanLoss()).isFinite();
        }
    }

    @Test
    void dpoIsRefusedWithAClearMessage() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EvalSet.defaultPreparer(Stage.DPO, null, SEQ_LEN))
                .hasMessageContaining("dpo");
    }

    /** The first {@code n} lines of the bundled SFT sample. */
    static List<String> sample(int n) throws Exception {
        try (InputStream in = EvalSetTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(n).toList();
        }
    }
}
