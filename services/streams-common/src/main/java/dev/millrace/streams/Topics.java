package dev.millrace.streams;

import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.List;

/**
 * Topic names (docs/architecture.md#topics): {@code <prefix>.<stage>.<step>}, {@code <prefix>.distill.prompts}
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

    /** The topic of one step ({@code raw}, {@code templated}, {@code tokenized} or {@code batches}) of a stage. */
    public String step(Stage stage, String step) {
        return switch (step) {
            case "raw" -> raw(stage);
            case "templated" -> templated(stage);
            case "tokenized" -> tokenized(stage);
            case "batches" -> batches(stage);
            default -> throw new IllegalArgumentException("unknown topic step '" + step + "' (expected raw, templated, tokenized or batches)");
        };
    }

    /** The topics of the given steps of every given stage, stage by stage, then the dead-letter topic. */
    public List<String> forSteps(List<Stage> stages, List<String> steps) {
        List<String> names = new ArrayList<>();
        for (Stage s : stages) {
            for (String step : steps) {
                names.add(step(s, step));
            }
        }
        names.add(dlq());
        return names;
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
