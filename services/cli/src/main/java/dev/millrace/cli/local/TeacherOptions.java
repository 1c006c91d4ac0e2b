package dev.millrace.cli.local;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The teacher of a local run (services/teacher): the checkpoint that answers the distill prompts and how it answers.
 * Unset settings keep the teacher service's own defaults (services/teacher/README.md).
 */
public final class TeacherOptions {
    private final Path checkpoint;
    private final Map<String, String> settings = new LinkedHashMap<>();

    /** @param checkpoint one checkpoint directory of the trainer's ({@code <checkpoint-dir>/step-NNNNNNNN}) */
    public TeacherOptions(Path checkpoint) {
        this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
    }

    public TeacherOptions maxNewTokens(int maxNewTokens) {
        return set("max-new-tokens", maxNewTokens);
    }

    /** 0: greedy; above 0: sampling at this temperature and top-p, seeded from each prompt's record id. */
    public TeacherOptions sampling(double temperature, double topP) {
        set("temperature", temperature);
        return set("top-p", topP);
    }

    /** {@code drop} (a dead letter) or {@code close} (the answer is kept and its turn closed, with a warning). */
    public TeacherOptions onMaxNewTokens(String policy) {
        return set("on-max-new-tokens", policy);
    }

    /** Any other teacher setting by its name under {@code millrace.teacher.} (e.g. {@code commit-every-prompts}). */
    public TeacherOptions set(String name, Object value) {
        settings.put(name, String.valueOf(value));
        return this;
    }

    public Path checkpoint() {
        return checkpoint;
    }

    /** The teacher's own settings by name under {@code millrace.teacher.}, in a stable order. */
    Map<String, String> teacherSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("checkpoint", checkpoint.toAbsolutePath().toString());
        out.putAll(settings);
        return out;
    }
}
