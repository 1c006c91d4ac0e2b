package dev.millrace.trainer;

import static dev.millrace.contract.SettingNames.ACCUMULATION;
import static dev.millrace.contract.SettingNames.BETA1;
import static dev.millrace.contract.SettingNames.BETA2;
import static dev.millrace.contract.SettingNames.CHECKPOINT_DIR;
import static dev.millrace.contract.SettingNames.CHECKPOINT_EVERY_STEPS;
import static dev.millrace.contract.SettingNames.CHECKPOINT_INTERVAL;
import static dev.millrace.contract.SettingNames.CLIP_NORM;
import static dev.millrace.contract.SettingNames.DEFAULT_SEQ_LEN;
import static dev.millrace.contract.SettingNames.DEFAULT_TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.DISTILL_ALPHA;
import static dev.millrace.contract.SettingNames.DISTILL_TEACHER;
import static dev.millrace.contract.SettingNames.DISTILL_TEMPERATURE;
import static dev.millrace.contract.SettingNames.DPO_BETA;
import static dev.millrace.contract.SettingNames.DPO_LOGPROB;
import static dev.millrace.contract.SettingNames.EVAL_EVERY_STEPS;
import static dev.millrace.contract.SettingNames.EVAL_FILE;
import static dev.millrace.contract.SettingNames.INIT;
import static dev.millrace.contract.SettingNames.KEEP_CHECKPOINTS;
import static dev.millrace.contract.SettingNames.LR;
import static dev.millrace.contract.SettingNames.MAX_STEPS;
import static dev.millrace.contract.SettingNames.MODEL;
import static dev.millrace.contract.SettingNames.PASSES;
import static dev.millrace.contract.SettingNames.PROGRESS_EVERY_STEPS;
import static dev.millrace.contract.SettingNames.SEED;
import static dev.millrace.contract.SettingNames.SEQ_LEN;
import static dev.millrace.contract.SettingNames.STAGE;
import static dev.millrace.contract.SettingNames.STUCK_AFTER;
import static dev.millrace.contract.SettingNames.TOKENIZER;
import static dev.millrace.contract.SettingNames.TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.TRAINER;
import static dev.millrace.contract.SettingNames.UNTIL_IDLE;
import static dev.millrace.contract.SettingNames.WARMUP_STEPS;
import static dev.millrace.contract.SettingNames.WEIGHT_DECAY;

import dev.millrace.contract.SettingNames;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the trainer reads under {@code millrace.}, typed, with its defaults, checked when the service
 * starts: a bad value stops it with a message naming the key and the value. The key names are contract's
 * {@link SettingNames}; what each means: the trainer rows of docs/architecture.md#service-settings.
 *
 * <p>Any other key under {@code millrace.} stops the service too (SmallRye's unknown-key check), a misspelt
 * {@code millrace.trainer.*} key above all, except the keys the pipeline services read
 * ({@link TrainerOtherServicesSettings}), so that one configuration can serve every service.
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface TrainerConfig {
    /** {@code millrace.topic-prefix}: the batch topic is {@code <prefix>.<stage>.batches}. */
    @WithName(TOPIC_PREFIX)
    @WithDefault(DEFAULT_TOPIC_PREFIX)
    String topicPrefix();

    /** {@code millrace.tokenizer}: the tokenizer folder (the batches' fingerprint must be its); empty: the bundled one. */
    @WithName(TOKENIZER)
    Optional<String> tokenizer();

    /** {@code millrace.seq-len}: the T every batch must have (loss-mask's setting, same default). */
    @WithName(SEQ_LEN)
    @WithDefault(DEFAULT_SEQ_LEN)
    @WithConverter(ConfigConverters.SeqLen.class)
    int seqLen();

    /** {@code millrace.trainer.*}. */
    @WithName(TRAINER)
    Trainer trainer();

    interface Trainer {
        /** The stage trained (one trainer per stage): pretrain, sft, dpo (which needs init) or distill. */
        @WithName(STAGE)
        @WithConverter(ConfigConverters.TrainedStage.class)
        Stage stage();

        /** Where checkpoints (and steps.jsonl) are written; a directory holding checkpoints is resumed. */
        @WithName(CHECKPOINT_DIR)
        @WithConverter(ConfigConverters.Directory.class)
        Path checkpointDir();

        /** The newest this many checkpoints are kept. */
        @WithName(KEEP_CHECKPOINTS)
        @WithDefault("3")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int keepCheckpoints();

        /**
         * Weights a fresh run starts from (a checkpoint or Llama-format weights); ignored when checkpoint-dir holds checkpoints,
         * except by DPO: required, it is also the frozen reference, and a resume refuses another.
         */
        @WithName(INIT)
        @WithConverter(ConfigConverters.AbsolutePath.class)
        Optional<Path> init();

        /** The model preset of a fresh run: tiny or minimind-26m. */
        @WithName(MODEL)
        @WithDefault("minimind-26m")
        @WithConverter(ConfigConverters.ModelPreset.class)
        String model();

        /** The seed of a fresh model's weights. */
        @WithName(SEED)
        @WithDefault("0")
        long seed();

        /** The peak learning rate. */
        @WithName(LR)
        @WithDefault("5e-4")
        @WithConverter(ConfigConverters.PositiveDouble.class)
        double lr();

        /** Linear warm-up steps of continuous training (max-steps 0); MiniMind's cosine schedule has none. */
        @WithName(WARMUP_STEPS)
        @WithDefault("0")
        @WithConverter(ConfigConverters.NonNegativeLong.class)
        long warmupSteps();

        /** AdamW's decoupled weight decay. */
        @WithName(WEIGHT_DECAY)
        @WithDefault("0.01")
        @WithConverter(ConfigConverters.NonNegativeDouble.class)
        double weightDecay();

        @WithName(BETA1)
        @WithDefault("0.9")
        @WithConverter(ConfigConverters.Beta.class)
        double beta1();

        @WithName(BETA2)
        @WithDefault("0.999")
        @WithConverter(ConfigConverters.Beta.class)
        double beta2();

        /** The global gradient norm is clipped to this. */
        @WithName(CLIP_NORM)
        @WithDefault("1.0")
        @WithConverter(ConfigConverters.PositiveDouble.class)
        double clipNorm();

        /** Batches per optimiser step. */
        @WithName(ACCUMULATION)
        @WithDefault("1")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int accumulation();

        /** A checkpoint every this many steps; 0: none by steps. */
        @WithName(CHECKPOINT_EVERY_STEPS)
        @WithDefault("100")
        @WithConverter(ConfigConverters.NonNegativeLong.class)
        long checkpointEverySteps();

        /** A checkpoint after a step once this long has passed since the last one; 0: after every step. */
        @WithName(CHECKPOINT_INTERVAL)
        @WithDefault("10m")
        @WithConverter(ConfigConverters.NonNegativeDuration.class)
        Duration checkpointInterval();

        /** Stop (exit 0) at this many steps in all, resumed ones included; 0: no limit. Also the cosine schedule's length. */
        @WithName(MAX_STEPS)
        @WithDefault("0")
        @WithConverter(ConfigConverters.NonNegativeLong.class)
        long maxSteps();

        /** Stop (exit 0) once no batch arrived for this long; absent: wait for ever. */
        @WithName(UNTIL_IDLE)
        @WithConverter(ConfigConverters.NonNegativeDuration.class)
        Optional<Duration> untilIdle();

        /** Stop (exit 0) after reading the topic this many times from its beginning to its end; 0: continuous. */
        @WithName(PASSES)
        @WithDefault("0")
        @WithConverter(ConfigConverters.NonNegativeInt.class)
        int passes();

        /** A held-out JSONL file of the stage, evaluated every eval-every-steps steps; absent: none. */
        @WithName(EVAL_FILE)
        @WithConverter(ConfigConverters.ExistingFile.class)
        Optional<Path> evalFile();

        @WithName(EVAL_EVERY_STEPS)
        @WithDefault("100")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long evalEverySteps();

        /** A progress line on standard error every this many steps; 0: none. */
        @WithName(PROGRESS_EVERY_STEPS)
        @WithDefault("10")
        @WithConverter(ConfigConverters.NonNegativeLong.class)
        long progressEverySteps();

        /** Liveness turns DOWN when no step finished for this long while batches wait. */
        @WithName(STUCK_AFTER)
        @WithDefault("5m")
        @WithConverter(ConfigConverters.PositiveDuration.class)
        Duration stuckAfter();

        /** DPO's β: how far the policy's log-ratios may move from the reference's (MiniMind's train_dpo.py: 0.1). */
        @WithName(DPO_BETA)
        @WithDefault("0.1")
        @WithConverter(ConfigConverters.PositiveDouble.class)
        double dpoBeta();

        /** How DPO reduces a side's trained-token log-probs: sum (MiniMind's train_dpo.py) or mean. */
        @WithName(DPO_LOGPROB)
        @WithDefault("sum")
        @WithConverter(ConfigConverters.DpoLogProb.class)
        DpoLoss.LogProb dpoLogProb();

        /**
         * A checkpoint directory whose frozen model the run distils from, logit-level (stages sft and distill; same tokenizer
         * fingerprint); absent: none. A resume refuses another teacher than its checkpoints record.
         */
        @WithName(DISTILL_TEACHER)
        @WithConverter(ConfigConverters.AbsolutePath.class)
        Optional<Path> distillTeacher();

        /** With a teacher: the weight α of the cross-entropy in α·ce + (1-α)·τ²·kl (MiniMind's train_distillation.py: 0.5). */
        @WithName(DISTILL_ALPHA)
        @WithDefault("0.5")
        @WithConverter(ConfigConverters.UnitInterval.class)
        double distillAlpha();

        /** With a teacher: the temperature τ of both softmaxes of the KL term (MiniMind's train_distillation.py: 1.5). */
        @WithName(DISTILL_TEMPERATURE)
        @WithDefault("1.5")
        @WithConverter(ConfigConverters.PositiveDouble.class)
        double distillTemperature();
    }

    /** The tokenizer folder: {@code millrace.tokenizer}, or the bundled one (copied out to a temporary folder) when it is empty. */
    default Path tokenizerFolder() {
        return tokenizer().filter(p -> !p.isBlank()).map(p -> Path.of(p).toAbsolutePath().normalize())
                .orElseGet(TokenizerFolder::bundledPath);
    }

    /**
     * The run these settings describe, reading from {@code bootstrapServers} with the other client settings
     * {@code kafkaConfig}. The schedule is MiniMind's cosine over max-steps when max-steps is set, else constant
     * after the linear warm-up; a warm-up with max-steps is refused (the cosine has none).
     */
    default TrainingSettings trainingSettings(String bootstrapServers, Map<String, ?> kafkaConfig) {
        Trainer t = trainer();
        if (t.maxSteps() > 0 && t.warmupSteps() > 0) {
            throw new IllegalArgumentException(SettingNames.key(TRAINER, WARMUP_STEPS) + "=" + t.warmupSteps() + " applies to continuous training: with "
                    + SettingNames.key(TRAINER, MAX_STEPS) + "=" + t.maxSteps() + " the learning rate follows MiniMind's cosine schedule, which has no warm-up");
        }
        LrSchedule schedule = t.maxSteps() > 0 ? LrSchedule.cosine(t.lr(), t.maxSteps()) : LrSchedule.constant(t.lr(), t.warmupSteps());
        AdamW.Settings adamw = new AdamW.Settings(t.beta1(), t.beta2(), AdamW.Settings.defaults().eps(), t.weightDecay());
        return TrainingSettings.builder(bootstrapServers, t.stage(), seqLen(), t.checkpointDir(), tokenizerFolder())
                .topics(new Topics(topicPrefix()))
                .keepCheckpoints(t.keepCheckpoints())
                .init(t.init().orElse(null))
                .modelPreset(t.model())
                .seed(t.seed())
                .trainer(new dev.millrace.training.train.Trainer.Settings(schedule, t.clipNorm(), t.accumulation(), adamw))
                .checkpointEverySteps(t.checkpointEverySteps())
                .checkpointInterval(t.checkpointInterval())
                .maxSteps(t.maxSteps())
                .untilIdle(t.untilIdle().orElse(null))
                .passes(t.passes())
                .evalFile(t.evalFile().orElse(null))
                .evalEverySteps(t.evalEverySteps())
                .dpo(new DpoTrainer.Settings(t.dpoBeta(), t.dpoLogProb()))
                .distillTeacher(t.distillTeacher().orElse(null))
                .distill(new DistillLoss.Settings(t.distillAlpha(), t.distillTemperature()))
                .kafkaConfig(kafkaConfig)
                .build();
    }
}
