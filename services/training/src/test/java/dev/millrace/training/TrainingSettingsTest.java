package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.training.run.TrainingRun;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The settings' defaults, the builder and the checks; the stuck rule of the health check. */
class TrainingSettingsTest {
    private static final Path CKPT = Path.of("/ckpt");
    private static final Path TOKENIZER = Path.of("/tok");

    @Test
    void theBuilderStartsAtTheDefaults() {
        TrainingSettings s = TrainingSettings.builder("host:9092", Stage.PRETRAIN, 128, CKPT, TOKENIZER).build();
        assertThat(s.bootstrapServers()).isEqualTo("host:9092");
        assertThat(s.stage()).isEqualTo(Stage.PRETRAIN);
        assertThat(s.seqLen()).isEqualTo(128);
        assertThat(s.checkpointDir()).isEqualTo(CKPT);
        assertThat(s.tokenizerFolder()).isEqualTo(TOKENIZER);
        assertThat(s.topics()).isEqualTo(Topics.DEFAULT);
        assertThat(s.batchTopic()).isEqualTo("millrace.pretrain.batches");
        assertThat(s.keepCheckpoints()).isEqualTo(3);
        assertThat(s.init()).isNull();
        assertThat(s.modelPreset()).isEqualTo("tiny");
        assertThat(s.seed()).isZero();
        assertThat(s.trainer().clipNorm()).isEqualTo(1.0);
        assertThat(s.trainer().accumulation()).isEqualTo(1);
        assertThat(s.trainer().adamw()).isEqualTo(AdamW.Settings.defaults());
        assertThat(s.trainer().schedule().at(0)).isEqualTo(5e-4);
        assertThat(s.trainer().schedule().at(1_000_000)).isEqualTo(5e-4);
        assertThat(s.checkpointEverySteps()).isEqualTo(100);
        assertThat(s.checkpointInterval()).isNull();
        assertThat(s.maxSteps()).isZero();
        assertThat(s.untilIdle()).isNull();
        assertThat(s.passes()).isZero();
        assertThat(s.bounded()).isFalse();
        assertThat(s.pollTimeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(s.evalFile()).isNull();
        assertThat(s.evalEverySteps()).isEqualTo(100);
        assertThat(s.evalBatchSize()).isEqualTo(16);
        assertThat(s.kafkaConfig()).isEmpty();
        assertThat(s.distillTeacher()).isNull();
        assertThat(s.distill()).isEqualTo(new DistillLoss.Settings(0.5, 1.5));
    }

    @Test
    void toBuilderKeepsEverythingAndChangesOnlyWhatItIsTold() {
        Trainer.Settings trainer = new Trainer.Settings(LrSchedule.cosine(1e-3, 10), 0.5, 4, new AdamW.Settings(0.8, 0.95, 1e-8, 0.1));
        TrainingSettings s = TrainingSettings.builder("h:1", Stage.SFT, 64, CKPT, TOKENIZER).topics(new Topics("acme")).keepCheckpoints(5)
                .init(Path.of("/init")).modelPreset("minimind-26m").seed(9).trainer(trainer).checkpointEverySteps(7)
                .checkpointInterval(Duration.ofMinutes(3)).maxSteps(40).untilIdle(Duration.ofSeconds(30)).passes(2)
                .pollTimeout(Duration.ofMillis(50)).evalFile(Path.of("/eval.jsonl")).evalEverySteps(5).evalBatchSize(8)
                .kafkaConfig(Map.of("security.protocol", "SSL")).distillTeacher(Path.of("/teacher")).distill(new DistillLoss.Settings(0.2, 3.0)).build();
        assertThat(s.toBuilder().build()).isEqualTo(s);
        assertThat(s.kafkaConfig()).containsExactly(Map.entry("security.protocol", "SSL"));
        assertThat(s.bounded()).isTrue();
        TrainingSettings moved = s.toBuilder().checkpointDir(Path.of("/other")).build();
        assertThat(moved.checkpointDir()).isEqualTo(Path.of("/other"));
        assertThat(moved.toBuilder().checkpointDir(CKPT).build()).isEqualTo(s);
        assertThat(TrainingSettings.builder("h", Stage.SFT, 8, CKPT, TOKENIZER).passes(1).build().bounded()).isTrue();
        assertThat(TrainingSettings.builder("h", Stage.SFT, 8, CKPT, TOKENIZER).untilIdle(Duration.ZERO).build().bounded()).isTrue();
    }

    @Test
    void impossibleValuesAreRefused() {
        assertThatThrownBy(() -> TrainingSettings.builder("h", Stage.SFT, 1, CKPT, TOKENIZER).build())
                .hasMessageContaining("T must be at least 2, got 1");
        assertThatThrownBy(() -> TrainingSettings.builder("h", Stage.SFT, 8, CKPT, TOKENIZER).keepCheckpoints(0).build())
                .hasMessageContaining("at least 1 checkpoint");
        assertThatThrownBy(() -> TrainingSettings.builder("h", Stage.SFT, 8, CKPT, TOKENIZER).maxSteps(-1).build())
                .hasMessageContaining("cannot be negative");
        assertThatThrownBy(() -> TrainingSettings.builder("h", Stage.SFT, 8, CKPT, TOKENIZER).evalEverySteps(0).build())
                .hasMessageContaining("eval-every-steps");
        assertThatThrownBy(() -> TrainingSettings.builder("h", Stage.SFT, 8, null, TOKENIZER).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("checkpointDir");
        // A teacher teaches on sft and distill batches only.
        for (Stage stage : new Stage[] {Stage.PRETRAIN, Stage.DPO}) {
            assertThatThrownBy(() -> TrainingSettings.builder("h", stage, 8, CKPT, TOKENIZER).distillTeacher(Path.of("/teacher")).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("millrace.trainer.distill-teacher")
                    .hasMessageContaining("this run trains " + stage.id());
        }
        assertThat(TrainingSettings.builder("h", Stage.DISTILL, 8, CKPT, TOKENIZER).distillTeacher(Path.of("/teacher")).build().batchTopic())
                .isEqualTo("millrace.distill.batches");
    }

    @Test
    void aRunIsStuckWhenNoStepFinishedForTheLimitWhileBatchesWait() {
        Duration limit = Duration.ofSeconds(5);
        long lastStep = 1_000_000_000L;
        assertThat(TrainingRun.stuck(lastStep + limit.toNanos(), lastStep, true, limit)).isTrue();
        assertThat(TrainingRun.stuck(lastStep + limit.toNanos() - 1, lastStep, true, limit)).isFalse();
        // Nothing to train: waiting for batches is no fault, however long it lasts.
        assertThat(TrainingRun.stuck(lastStep + 100 * limit.toNanos(), lastStep, false, limit)).isFalse();
    }
}
