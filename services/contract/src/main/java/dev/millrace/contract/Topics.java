package dev.millrace.contract;

import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.List;

/**
 * Topic names (docs/architecture.md): {@code <prefix>.<stage>.<step>} for each {@link TopicStep},
 * {@code <prefix>.distill.prompts} and {@code <prefix>.dlq}; the prefix is {@code millrace} unless
 * configured otherwise ({@code millrace.topic-prefix}).
 */
public record Topics(String prefix) {
    public static final Topics DEFAULT = new Topics(SettingNames.DEFAULT_TOPIC_PREFIX);

    /** The topic of one step of a stage. */
    public String of(Stage stage, TopicStep step) {
        return prefix + "." + stage.id() + "." + step.id();
    }

    public String raw(Stage stage) {
        return of(stage, TopicStep.RAW);
    }

    public String templated(Stage stage) {
        return of(stage, TopicStep.TEMPLATED);
    }

    public String tokenized(Stage stage) {
        return of(stage, TopicStep.TOKENIZED);
    }

    public String batches(Stage stage) {
        return of(stage, TopicStep.BATCHES);
    }

    /** The distill prompts ingest writes beside the raw distill records. */
    public String distillPrompts() {
        return prefix + ".distill.prompts";
    }

    public String dlq() {
        return prefix + ".dlq";
    }

    /** The topics of the given steps of every given stage, stage by stage, then the dead-letter topic. */
    public List<String> forSteps(List<Stage> stages, List<TopicStep> steps) {
        List<String> names = new ArrayList<>();
        for (Stage s : stages) {
            for (TopicStep step : steps) {
                names.add(of(s, step));
            }
        }
        names.add(dlq());
        return names;
    }

    /** Every record and batch topic of the given stages (with the distill prompts when distill is one), then the dead-letter topic. */
    public List<String> all(List<Stage> stages) {
        List<String> names = new ArrayList<>();
        for (Stage s : stages) {
            for (TopicStep step : TopicStep.values()) {
                names.add(of(s, step));
            }
        }
        if (stages.contains(Stage.DISTILL)) {
            names.add(distillPrompts());
        }
        names.add(dlq());
        return names;
    }
}
