package dev.millrace.teacher;

import static dev.millrace.contract.SettingNames.CHECKPOINT;
import static dev.millrace.contract.SettingNames.COMMIT_EVERY_PROMPTS;
import static dev.millrace.contract.SettingNames.COMMIT_INTERVAL;
import static dev.millrace.contract.SettingNames.DEFAULT_TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.INSTANCE_ID;
import static dev.millrace.contract.SettingNames.MAX_NEW_TOKENS;
import static dev.millrace.contract.SettingNames.MAX_PROMPT_TOKENS;
import static dev.millrace.contract.SettingNames.ON_MAX_NEW_TOKENS;
import static dev.millrace.contract.SettingNames.STUCK_AFTER;
import static dev.millrace.contract.SettingNames.TEACHER;
import static dev.millrace.contract.SettingNames.TEMPERATURE;
import static dev.millrace.contract.SettingNames.TOKENIZER;
import static dev.millrace.contract.SettingNames.TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.TOP_P;

import dev.millrace.contract.SettingNames;
import dev.millrace.core.tokenizer.TokenizerFolder;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Everything the teacher reads under {@code millrace.}, typed, with its defaults, checked when the service
 * starts: a bad value stops it with a message naming the key and the value. The key names are contract's
 * {@link SettingNames}; what each means: the teacher rows of docs/architecture.md#service-settings and
 * services/teacher/README.md. Any other key under {@code millrace.} stops the service too, except the keys the
 * other services read ({@link TeacherOtherServicesSettings}).
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface TeacherConfig {
    /** {@code millrace.topic-prefix}: prompts from {@code <prefix>.distill.prompts}, answers to {@code <prefix>.distill.raw}. */
    @WithName(TOPIC_PREFIX)
    @WithDefault(DEFAULT_TOPIC_PREFIX)
    String topicPrefix();

    /** {@code millrace.tokenizer}: the pipeline's tokenizer folder (the checkpoint's must have its fingerprint); empty: the bundled one. */
    @WithName(TOKENIZER)
    Optional<String> tokenizer();

    /** {@code millrace.teacher.*}. */
    @WithName(TEACHER)
    Teacher teacher();

    interface Teacher {
        /** The pinned checkpoint directory (one of the trainer's {@code step-NNNNNNNN}) that answers. */
        @WithName(CHECKPOINT)
        @WithConverter(ConfigConverters.CheckpointDir.class)
        Path checkpoint();

        /** The most tokens of one answer (the end-of-turn token not counted). */
        @WithName(MAX_NEW_TOKENS)
        @WithDefault("256")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int maxNewTokens();

        /** 0: greedy; above 0: sampling at this temperature, seeded from the prompt's record id. */
        @WithName(TEMPERATURE)
        @WithDefault("0")
        @WithConverter(ConfigConverters.Temperature.class)
        double temperature();

        /** Nucleus sampling's mass (ignored when greedy). */
        @WithName(TOP_P)
        @WithDefault("0.85")
        @WithConverter(ConfigConverters.TopP.class)
        double topP();

        /** An answer that reaches max-new-tokens without an end-of-turn token: drop (dead letter) or close. */
        @WithName(ON_MAX_NEW_TOKENS)
        @WithDefault("drop")
        @WithConverter(ConfigConverters.Policy.class)
        OnMaxNewTokens onMaxNewTokens();

        /** A prompt rendered longer than this many tokens is a dead letter (RECORD_TOO_LARGE): it bounds one prompt's work and memory. */
        @WithName(MAX_PROMPT_TOKENS)
        @WithDefault("2048")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int maxPromptTokens();

        /** A transaction is committed after this many prompts ... */
        @WithName(COMMIT_EVERY_PROMPTS)
        @WithDefault("16")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int commitEveryPrompts();

        /** ... or once it has been open this long, whichever comes first. */
        @WithName(COMMIT_INTERVAL)
        @WithDefault("1s")
        @WithConverter(ConfigConverters.PositiveDuration.class)
        Duration commitInterval();

        /** The producer's transactional id and the consumer's group instance id: stable per instance, unique among instances. */
        @WithName(INSTANCE_ID)
        @WithDefault("millrace-teacher-0")
        @WithConverter(ConfigConverters.InstanceId.class)
        String instanceId();

        /** Liveness turns DOWN while one prompt has been in process this long. */
        @WithName(STUCK_AFTER)
        @WithDefault("5m")
        @WithConverter(ConfigConverters.PositiveDuration.class)
        Duration stuckAfter();
    }

    /** The pipeline's tokenizer folder: {@code millrace.tokenizer}, or the bundled one when it is empty. */
    default Path tokenizerFolder() {
        return tokenizer().filter(p -> !p.isBlank()).map(p -> Path.of(p).toAbsolutePath().normalize())
                .orElseGet(TokenizerFolder::bundledPath);
    }
}
