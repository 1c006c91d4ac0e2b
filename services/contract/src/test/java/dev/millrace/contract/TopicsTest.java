package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Stage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Topic names: {@code <prefix>.<stage>.<step>}, the distill prompts and the dead-letter topic. */
class TopicsTest {

    @Test
    void eachStepOfAStageIsATopicUnderThePrefix() {
        Topics topics = new Topics("acme");

        assertThat(topics.raw(Stage.SFT)).isEqualTo("acme.sft.raw");
        assertThat(topics.templated(Stage.DPO)).isEqualTo("acme.dpo.templated");
        assertThat(topics.tokenized(Stage.PRETRAIN)).isEqualTo("acme.pretrain.tokenized");
        assertThat(topics.batches(Stage.DISTILL)).isEqualTo("acme.distill.batches");
        assertThat(topics.distillPrompts()).isEqualTo("acme.distill.prompts");
        assertThat(topics.dlq()).isEqualTo("acme.dlq");
        assertThat(Topics.DEFAULT.of(Stage.SFT, TopicStep.BATCHES)).isEqualTo("millrace.sft.batches");
    }

    @Test
    void theStepsAreThePipelineInOrder() {
        assertThat(List.of(TopicStep.values()).stream().map(TopicStep::id).toList())
                .containsExactly("raw", "templated", "tokenized", "batches");
    }

    @Test
    void forStepsListsTheStepsStageByStageThenTheDeadLetterTopic() {
        assertThat(Topics.DEFAULT.forSteps(List.of(Stage.PRETRAIN, Stage.DPO), List.of(TopicStep.TOKENIZED, TopicStep.BATCHES)))
                .containsExactly("millrace.pretrain.tokenized", "millrace.pretrain.batches",
                        "millrace.dpo.tokenized", "millrace.dpo.batches", "millrace.dlq");
    }

    @Test
    void allHasEveryStepOfEveryStageAndTheDistillPromptsOnlyWithDistill() {
        assertThat(Topics.DEFAULT.all(List.of(Stage.SFT))).containsExactly(
                "millrace.sft.raw", "millrace.sft.templated", "millrace.sft.tokenized", "millrace.sft.batches", "millrace.dlq");
        assertThat(Topics.DEFAULT.all(List.of(Stage.DISTILL, Stage.PRETRAIN))).containsExactly(
                "millrace.distill.raw", "millrace.distill.templated", "millrace.distill.tokenized", "millrace.distill.batches",
                "millrace.pretrain.raw", "millrace.pretrain.templated", "millrace.pretrain.tokenized", "millrace.pretrain.batches",
                "millrace.distill.prompts", "millrace.dlq");
    }
}
