package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each service's place in the pipeline, and the topics a Streams service waits for. */
class PipelineServiceTest {

    @Test
    void eachServiceReadsAndWritesItsSteps() {
        assertThat(PipelineService.INGEST.reads()).isEmpty();
        assertThat(PipelineService.INGEST.writes()).isEqualTo(TopicStep.RAW);
        assertThat(PipelineService.CHAT_TEMPLATE.reads()).contains(TopicStep.RAW);
        assertThat(PipelineService.CHAT_TEMPLATE.writes()).isEqualTo(TopicStep.TEMPLATED);
        assertThat(PipelineService.TOKENIZE.reads()).contains(TopicStep.TEMPLATED);
        assertThat(PipelineService.TOKENIZE.writes()).isEqualTo(TopicStep.TOKENIZED);
        assertThat(PipelineService.LOSS_MASK.reads()).contains(TopicStep.TOKENIZED);
        assertThat(PipelineService.LOSS_MASK.writes()).isEqualTo(TopicStep.BATCHES);
    }

    @Test
    void inPipelineOrderEachServiceReadsWhatThePreviousOneWrites() {
        PipelineService[] services = PipelineService.values();
        for (int i = 1; i < services.length; i++) {
            assertThat(services[i].reads()).as(services[i].id()).isEqualTo(Optional.of(services[i - 1].writes()));
        }
        assertThat(services[services.length - 1].writes()).isEqualTo(TopicStep.BATCHES);
    }

    @Test
    void onlyIngestIsNoKafkaStreamsApp() {
        assertThat(List.of(PipelineService.values()).stream().filter(s -> !s.isStreamsApp()).toList())
                .containsExactly(PipelineService.INGEST);
    }

    @Test
    void aStreamsServiceWaitsForTheTopicsItReadsAndWritesOfEveryStageThenTheDeadLetterTopic() {
        Topics topics = new Topics("acme");

        assertThat(PipelineService.CHAT_TEMPLATE.streamTopics(topics, List.of(Stage.SFT, Stage.DPO)))
                .containsExactly("acme.sft.raw", "acme.sft.templated", "acme.dpo.raw", "acme.dpo.templated", "acme.dlq");
        assertThat(PipelineService.TOKENIZE.streamTopics(topics, List.of(Stage.PRETRAIN)))
                .containsExactly("acme.pretrain.templated", "acme.pretrain.tokenized", "acme.dlq");
        assertThat(PipelineService.LOSS_MASK.streamTopics(topics, List.of(Stage.DISTILL)))
                .containsExactly("acme.distill.tokenized", "acme.distill.batches", "acme.dlq");
        assertThat(PipelineService.INGEST.streamTopics(topics, List.of(Stage.SFT))).isEmpty();
    }

    @Test
    void aServiceIsFoundByItsIdAndAnUnknownIdIsRefusedByName() {
        for (PipelineService s : PipelineService.values()) {
            assertThat(PipelineService.fromId(s.id())).isSameAs(s);
        }
        assertThatThrownBy(() -> PipelineService.fromId("trainer"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown pipeline service 'trainer' (expected ingest, chat-template, tokenize, loss-mask)");
    }

    @Test
    void theIdIsTheServicesModuleDirectory() {
        Path services = Path.of(System.getProperty("millrace.repo.root", "../..")).resolve("services");
        for (PipelineService s : PipelineService.values()) {
            assertThat(services.resolve(s.id()).resolve("pom.xml")).as(s.id()).isRegularFile();
        }
    }
}
