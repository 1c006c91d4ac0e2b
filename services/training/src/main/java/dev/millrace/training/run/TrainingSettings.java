package dev.millrace.training.run;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link TrainingRun} reads, trains and writes, and when it stops.
 *
 * @param seqLen the T every batch must have (the stage's sequence length)
 * @param init weights a fresh run starts from (a checkpoint or Llama-format weights); ignored when
 *     {@code checkpointDir} already holds checkpoints; null: a fresh {@code modelPreset} from {@code seed}
 * @param checkpointEverySteps a checkpoint every this many optimiser steps (0: none by steps)
 * @param checkpointInterval a checkpoint after a step once this long has passed since the last one (null: none by time)
 * @param maxSteps stop at this many optimiser steps in all, resumed ones included (0: no limit)
 * @param untilIdle stop once no batch arrived for this long (null: wait for batches for ever)
 * @param passes stop after reading the topic this many times, from its beginning to its end (0: continuous, one
 *     endless pass)
 * @param pollTimeout how long one poll waits for batches (and so how quickly a stop is noticed)
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
        Duration pollTimeout) {

    public TrainingSettings {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(checkpointDir, "checkpointDir");
        Objects.requireNonNull(tokenizerFolder, "tokenizerFolder");
        Objects.requireNonNull(trainer, "trainer");
        Objects.requireNonNull(pollTimeout, "pollTimeout");
        if (seqLen < 2) {
            throw new IllegalArgumentException("T must be at least 2, got " + seqLen);
        }
        if (checkpointEverySteps < 0 || maxSteps < 0 || passes < 0) {
            throw new IllegalArgumentException("checkpoint-every, max-steps and passes cannot be negative");
        }
    }

    /**
     * Continuous training of a fresh {@code tiny} model (seed 0) with a constant learning rate of 5e-4 (MiniMind's
     * pretrain rate), a checkpoint every 100 steps, the newest 3 kept.
     */
    public static TrainingSettings of(String bootstrapServers, Stage stage, int seqLen, Path checkpointDir, Path tokenizerFolder) {
        return new TrainingSettings(bootstrapServers, Topics.DEFAULT, stage, seqLen, checkpointDir, 3, null, tokenizerFolder, "tiny", 0,
                Trainer.Settings.defaults(LrSchedule.constant(5e-4, 0)), 100, null, 0, null, 0, Duration.ofMillis(200));
    }

    public String batchTopic() {
        return topics.batches(stage);
    }

    public TrainingSettings withTopics(Topics t) {
        return new TrainingSettings(bootstrapServers, t, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder, modelPreset, seed,
                trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withSeqLen(int t) {
        return new TrainingSettings(bootstrapServers, topics, stage, t, checkpointDir, keepCheckpoints, init, tokenizerFolder, modelPreset, seed,
                trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withCheckpointDir(Path dir, int keep) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, dir, keep, init, tokenizerFolder, modelPreset, seed,
                trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withInit(Path dir) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, dir, tokenizerFolder, modelPreset, seed,
                trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withModel(String preset, long seedValue) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder, preset, seedValue,
                trainer, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withTrainer(Trainer.Settings t) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder, modelPreset, seed,
                t, checkpointEverySteps, checkpointInterval, maxSteps, untilIdle, passes, pollTimeout);
    }

    public TrainingSettings withCheckpointEvery(long steps, Duration interval) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder, modelPreset, seed,
                trainer, steps, interval, maxSteps, untilIdle, passes, pollTimeout);
    }

    /** Bounds: {@code maxSteps} (0: none), {@code untilIdle} (null: none), {@code passes} (0: continuous). */
    public TrainingSettings withBounds(long steps, Duration idle, int passCount) {
        return new TrainingSettings(bootstrapServers, topics, stage, seqLen, checkpointDir, keepCheckpoints, init, tokenizerFolder, modelPreset, seed,
                trainer, checkpointEverySteps, checkpointInterval, steps, idle, passCount, pollTimeout);
    }
}
