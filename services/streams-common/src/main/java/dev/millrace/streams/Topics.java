package dev.millrace.streams;

import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.List;

/**
 * Topic names of ARCHITECTURE.md: {@code <prefix>.<stage>.<step>}, {@code <prefix>.distill.prompts}
 * and {@code <prefix>.dlq}; the prefix is {@code millrace} unless configured otherwise.
 */
public record Topics(String prefix) {
    public static final Topics DEFAULT = new Topics("millrace");

    public String raw(Stage stage) {
        return prefix + "." + stage.id() + ".raw";
    }

    public String templated(Stage stage) {
        return prefix + "." + stage.id() + ".templated";
    }

    public String tokenized(Stage stage) {
        return prefix + "." + stage.id() + ".tokenized";
    }

    public String batches(Stage stage) {
        return prefix + "." + stage.id() + ".batches";
    }

    public String distillPrompts() {
        return prefix + ".distill.prompts";
    }

    public String dlq() {
        return prefix + ".dlq";
    }

    /** Every record and batch topic of the given stages, plus the dead-letter topic. */
    public List<String> all(List<Stage> stages) {
        List<String> names = new ArrayList<>();
        for (Stage s : stages) {
            names.add(raw(s));
            names.add(templated(s));
            names.add(tokenized(s));
            names.add(batches(s));
        }
        if (stages.contains(Stage.DISTILL)) {
            names.add(distillPrompts());
        }
        names.add(dlq());
        return names;
    }
}
