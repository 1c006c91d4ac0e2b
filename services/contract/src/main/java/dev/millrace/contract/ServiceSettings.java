package dev.millrace.contract;

import dev.millrace.core.record.Stage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the services of a pipeline are started with, typed: the stages they serve, the topic prefix,
 * and loss-mask's row length T, batch size B, batch linger and the stages whose rows are packed.
 * {@link #properties} writes the settings one service reads under their keys ({@link SettingNames});
 * each service module has a test that its typed config maps every key written here.
 */
public record ServiceSettings(List<Stage> stages, String topicPrefix, int seqLen, int batchSize, long batchLingerMs, Set<Stage> packing) {
    public ServiceSettings {
        stages = List.copyOf(stages);
        packing = Set.copyOf(packing);
    }

    public Topics topics() {
        return new Topics(topicPrefix);
    }

    /** The {@code millrace.*} settings {@code service} reads, by key, in a stable order. */
    public Map<String, String> properties(PipelineService service) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(SettingNames.key(SettingNames.STAGES), stages.stream().map(Stage::id).collect(Collectors.joining(",")));
        props.put(SettingNames.key(SettingNames.TOPIC_PREFIX), topicPrefix);
        if (service == PipelineService.LOSS_MASK) {
            props.put(SettingNames.key(SettingNames.SEQ_LEN), String.valueOf(seqLen));
            props.put(SettingNames.key(SettingNames.BATCH_SIZE), String.valueOf(batchSize));
            props.put(SettingNames.key(SettingNames.BATCH_LINGER_MS), String.valueOf(batchLingerMs));
            for (Stage stage : stages) {
                if (packing.contains(stage)) {
                    // Only "on": the other stages keep the service's own setting (off unless configured).
                    props.put(SettingNames.key(stage, SettingNames.PACKING), "on");
                }
            }
        }
        return props;
    }
}
