package dev.millrace.training.run;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@link TrainingRun} reads, trains and writes, and when it stops. Made with {@link #builder}: the
 * values without a sensible default are its arguments, the rest start at the defaults below.
 *
 * @param seqLen the T every batch must have (the stage's sequence length)
 * @param keepCheckpoints the newest this many checkpoints are kept (default 3)
 * @param init weights a fresh run starts from (a checkpoint or Llama-format weights); ignored when
 *     {@code checkpointDir} already holds checkpoints; null (default): a fresh {@code modelPreset} from {@code seed}
 * @param modelPreset the model a fresh run starts with (default {@code tiny}, seed 0)
 * @param trainer the optimiser step (default: a constant learning rate of 5e-4, MiniMind's pretrain rate, with
 *     {@link Trainer.Settings#defaults})
 * @param checkpointEverySteps a checkpoint every this many optimiser steps (0: none by steps; default 100)
 * @param checkpointInterval a checkpoint after a step once this long has passed since the last one (null, the
 *     default: none by time)
 * @param maxSteps stop at this many optimiser steps in all, resumed ones included (0, the default: no limit)
 * @param untilIdle stop once no batch arrived for this long (null, the default: wait for batches for ever)
 * @param passes stop after reading the topic this many times, from its beginning to its end (0, the default:
 *     continuous, one endless pass)
 * @param pollTimeout how long one poll waits for batches, and so how quickly a stop is noticed (default 200 ms)
 * @param evalFile a held-out JSONL file of the stage, prepared once into {@code prepare}'s rows when the run
 *     opens (null, the default: no evaluation)
 * @param evalEverySteps the eval file's loss is computed after every this many optimiser steps (default 100)
 * @param evalBatchSize rows of the eval file per forward pass (default 16)
 * @param kafkaConfig more settings of the batch topic's consumer (SASL/TLS, timeouts; default none); the ones
 *     that make reading exactly-once are {@link KafkaBatchSource}'s and cannot be changed here
 * @param dpo the DPO loss's β and log-prob reduction (default β 0.1, summed); read by the DPO stage only, which
 *     also needs {@code init} (the SFT checkpoint that is the policy's start and the frozen reference)
 * @param distillTeacher a checkpoint directory whose frozen model the run distils from, logit-level (null, the
 *     default: none, plain cross-entropy); stages sft and distill only, same tokenizer fingerprint as the run
 * @param distill α and τ of the logit-level distillation loss (default MiniMind's α 0.5, τ 1.5); read only with a
 *     {@code distillTeacher}
 */
public record TrainingSettings(
        String bootstrapServers,
        Topics topics,
        Stage stage,
        int seqLen,
        Path checkpointDir,
        int keepCheckpoints,
        Path init,
        Path tokenizerFolder,
        String modelPreset,
        long seed,
        Trainer.Settings trainer,
        long checkpointEverySteps,
        Duration checkpointInterval,
        long maxSteps,
        Duration untilIdle,
        int passes,
        Duration pollTimeout,
        Path evalFile,
        long evalEverySteps,
        int evalBatchSize,
        Map<String, Object> kafkaConfig,
        DpoTrainer.Settings dpo,
        Path distillTeacher,
        DistillLoss.Settings distill) {

    public TrainingSettings {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(checkpointDir, "checkpointDir");
        Objects.requireNonNull(tokenizerFolder, "tokenizerFolder");
        Objects.requireNonNull(modelPreset, "modelPreset");
        Objects.requireNonNull(trainer, "trainer");
        Objects.requireNonNull(pollTimeout, "pollTimeout");
        Objects.requireNonNull(dpo, "dpo");
        Objects.requireNonNull(distill, "distill");
        kafkaConfig = Map.copyOf(kafkaConfig);
        if (seqLen < 2) {
            throw new IllegalArgumentException("T must be at least 2, got " + seqLen);
        }
        if (keepCheckpoints < 1) {
            throw new IllegalArgumentException("at least 1 checkpoint must be kept, got " + keepCheckpoints);
        }
        if (checkpointEverySteps < 0 || maxSteps < 0 || passes < 0) {
            throw new IllegalArgumentException("checkpoint-every, max-steps and passes cannot be negative");
        }
        if (evalEverySteps < 1 || evalBatchSize < 1) {
            throw new IllegalArgumentException("eval-every-steps and the eval batch size must be at least 1, got "
                    + evalEverySteps + " and " + evalBatchSize);
        }
        if (distillTeacher != null && stage != Stage.SFT && stage != Stage.DISTILL) {
            throw new IllegalArgumentException("a distillation teacher (the trainer's millrace.trainer.distill-teacher) teaches on sft or distill "
                    + "batches, this run trains " + stage.id() + ": unset it, or train sft or distill");
        }
    }

    /**
     * The settings of a run of {@code stage} at T = {@code seqLen}; everything else starts at its default:
     * continuous training of a fresh {@code tiny} model (seed 0) from the default topics with a constant
     * learning rate of 5e-4, a checkpoint every 100 steps, the newest 3 kept, no evaluation.
     */
    public static Builder builder(String bootstrapServers, Stage stage, int seqLen, Path checkpointDir, Path tokenizerFolder) {
        return new Builder(bootstrapServers, stage, seqLen, checkpointDir, tokenizerFolder);
    }

    /** A builder holding these settings, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder(bootstrapServers, stage, seqLen, checkpointDir, tokenizerFolder);
        b.topics = topics;
        b.keepCheckpoints = keepCheckpoints;
        b.init = init;
        b.modelPreset = modelPreset;
        b.seed = seed;
        b.trainer = trainer;
        b.checkpointEverySteps = checkpointEverySteps;
        b.checkpointInterval = checkpointInterval;
        b.maxSteps = maxSteps;
        b.untilIdle = untilIdle;
        b.passes = passes;
        b.pollTimeout = pollTimeout;
        b.evalFile = evalFile;
        b.evalEverySteps = evalEverySteps;
        b.evalBatchSize = evalBatchSize;
        b.kafkaConfig = kafkaConfig;
        b.dpo = dpo;
        b.distillTeacher = distillTeacher;
        b.distill = distill;
        return b;
    }

    public String batchTopic() {
        return topics.batches(stage);
    }

    /** Whether the run ends by itself: a step limit, an idle limit or a number of passes. */
    public boolean bounded() {
        return maxSteps > 0 || untilIdle != null || passes > 0;
    }

    /** Builds {@link TrainingSettings}; the checks are the record's, made in {@link #build()}. */
    public static final class Builder {
        private DpoTrainer.Settings dpo = DpoTrainer.Settings.defaults();
        private String bootstrapServers;
        private Stage stage;
        private int seqLen;
        private Path checkpointDir;
        private Path tokenizerFolder;
        private Topics topics = Topics.DEFAULT;
        private int keepCheckpoints = 3;
        private Path init;
        private String modelPreset = "tiny";
        private long seed;
        private Trainer.Settings trainer = Trainer.Settings.defaults(LrSchedule.constant(5e-4, 0));
        private long checkpointEverySteps = 100;
        private Duration checkpointInterval;
        private long maxSteps;
        private Duration untilIdle;
        private int passes;
        private Duration pollTimeout = Duration.ofMillis(200);
        private Path evalFile;
        private long evalEverySteps = 100;
        private int evalBatchSize = 16;
        private Map<String, Object> kafkaConfig = Map.of();
        private Path distillTeacher;
        private DistillLoss.Settings distill = DistillLoss.Settings.defaults();

        private Builder(String bootstrapServers, Stage stage, int seqLen, Path checkpointDir, Path tokenizerFolder) {
            this.bootstrapServers = bootstrapServers;
            this.stage = stage;
            this.seqLen = seqLen;
            this.checkpointDir = checkpointDir;
            this.tokenizerFolder = tokenizerFolder;
        }

        public Builder bootstrapServers(String value) {
            this.bootstrapServers = value;
            return this;
        }

        public Builder stage(Stage value) {
            this.stage = value;
            return this;
        }

        public Builder seqLen(int value) {
            this.seqLen = value;
            return this;
        }

        public Builder checkpointDir(Path value) {
            this.checkpointDir = value;
            return this;
        }

        public Builder tokenizerFolder(Path value) {
            this.tokenizerFolder = value;
            return this;
        }

        public Builder topics(Topics value) {
            this.topics = value;
            return this;
        }

        public Builder keepCheckpoints(int value) {
            this.keepCheckpoints = value;
            return this;
        }

        /** Null: none. */
        public Builder init(Path value) {
            this.init = value;
            return this;
        }

        public Builder modelPreset(String value) {
            this.modelPreset = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder trainer(Trainer.Settings value) {
            this.trainer = value;
            return this;
        }

        /** 0: no checkpoint by steps. */
        public Builder checkpointEverySteps(long value) {
            this.checkpointEverySteps = value;
            return this;
        }

        /** Null: no checkpoint by time. */
        public Builder checkpointInterval(Duration value) {
            this.checkpointInterval = value;
            return this;
        }

        /** 0: no limit. */
        public Builder maxSteps(long value) {
            this.maxSteps = value;
            return this;
        }

        /** Null: wait for batches for ever. */
        public Builder untilIdle(Duration value) {
            this.untilIdle = value;
            return this;
        }

        /** 0: continuous. */
        public Builder passes(int value) {
            this.passes = value;
            return this;
        }

        public Builder pollTimeout(Duration value) {
            this.pollTimeout = value;
            return this;
        }

        /** Null: no evaluation. */
        public Builder evalFile(Path value) {
            this.evalFile = value;
            return this;
        }

        public Builder evalEverySteps(long value) {
            this.evalEverySteps = value;
            return this;
        }

        public Builder evalBatchSize(int value) {
            this.evalBatchSize = value;
            return this;
        }

        public Builder kafkaConfig(Map<String, ?> value) {
            this.kafkaConfig = Map.copyOf(value);
            return this;
        }

        /** β and log-prob reduction of the DPO loss (used by the DPO stage only). */
        public Builder dpo(DpoTrainer.Settings value) {
            this.dpo = value;
            return this;
        }

        /** Null: no teacher (plain cross-entropy). */
        public Builder distillTeacher(Path value) {
            this.distillTeacher = value;
            return this;
        }

        /** α and τ of the logit-level distillation loss (used with a teacher only). */
        public Builder distill(DistillLoss.Settings value) {
            this.distill = value;
            return this;
        }

        public TrainingSettings build() {
            return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder,
                    modelPreset, seed, trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout,
                    evalFile, evalEverySteps, evalBatchSize, kafkaConfig, dpo, distillTeacher, distill);
        }
    }
}
