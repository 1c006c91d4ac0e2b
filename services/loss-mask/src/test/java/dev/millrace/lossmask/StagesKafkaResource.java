package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.streams.testing.LocalKafkaResource;
import java.util.List;
import java.util.Map;

/**
 * The shared broker resource (SFT topics, 2 partitions) plus the pretrain, dpo and distill topics
 * this service's tests use, with 1 partition each, so one task sees every record in the order sent
 * and the expected packed rows are well defined.
 */
public class StagesKafkaResource extends LocalKafkaResource {
    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        LocalKafka.createTopics(bootstrapServers(), 1, Map.of(),
                Topics.DEFAULT.all(List.of(Stage.PRETRAIN, Stage.DPO, Stage.DISTILL)).toArray(String[]::new));
        return config;
    }
}
