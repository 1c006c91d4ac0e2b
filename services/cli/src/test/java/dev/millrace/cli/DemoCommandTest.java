package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.ingest.IngestClient;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace demo} without the packaged system: usage errors, the missing-build message, and
 * how it tells which record ids to wait for. The run itself is tested end to end in services/it.
 */
class DemoCommandTest {

    @Test
    void badOptionsAreUsageErrors() {
        CliRun run = CliRun.of("demo", "--seq-len", "1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--seq-len must be at least 2");
        assertThat(run.out()).isEmpty();

        assertThat(CliRun.of("demo", "--timeout", "0").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("demo", "--packing", "on").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("demo", "--train-steps", "-1").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("demo", "--train-lr", "0").exitCode()).isEqualTo(2);

        CliRun unknownStage = CliRun.of("demo", "--stages", "sft,rlhf");
        assertThat(unknownStage.exitCode()).isEqualTo(2);
        assertThat(unknownStage.err()).contains("--stages").contains("unknown stage 'rlhf'");
    }

    @Test
    void runsTheChosenStagesInStageOrderEachOnce() {
        assertThat(DemoCommand.stages(List.of("distill", "sft", "sft"))).containsExactly(Stage.SFT, Stage.DISTILL);
        assertThat(DemoCommand.stages(List.of("pretrain", "sft", "dpo", "distill"))).containsExactly(Stage.values());
        assertThat(DemoCommand.PACKED).containsExactlyInAnyOrder(Stage.PRETRAIN, Stage.SFT);
    }

    @Test
    void saysWhatToBuildWhenThePackagedSystemIsMissing(@TempDir Path emptyCheckout) {
        CliRun run = CliRun.of("demo", "--repo-root", emptyCheckout.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err())
                .contains("services/kafka-local/target/lib")
                .contains("services/ingest/target/quarkus-app/quarkus-run.jar")
                .contains("services/trainer/target/quarkus-app/quarkus-run.jar")
                .contains("./mvnw -DskipTests package")
                .doesNotContain("Exception"); // a message, not a stack trace
    }

    @Test
    void withoutTrainingTheTrainerIsNotNeeded(@TempDir Path emptyCheckout) {
        CliRun run = CliRun.of("demo", "--repo-root", emptyCheckout.toString(), "--train-steps", "0");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("services/ingest/target/quarkus-app/quarkus-run.jar").doesNotContain("services/trainer");

        CliRun dpoOnly = CliRun.of("demo", "--repo-root", emptyCheckout.toString(), "--stages", "dpo");
        assertThat(dpoOnly.err()).as("dpo alone is not trained: it starts from SFT's checkpoint").doesNotContain("services/trainer");

        CliRun distillOnly = CliRun.of("demo", "--repo-root", emptyCheckout.toString(), "--stages", "distill");
        assertThat(distillOnly.err()).as("no teacher without a trained checkpoint to answer with")
                .contains("services/trainer/target/quarkus-app/quarkus-run.jar").doesNotContain("services/teacher");

        CliRun all = CliRun.of("demo", "--repo-root", emptyCheckout.toString());
        assertThat(all.err()).contains("services/teacher/target/quarkus-app/quarkus-run.jar");
    }

    @Test
    void theBundledSampleIsThere() {
        List<RawLine> lines = DemoCommand.lines(DemoCommand.sample());
        assertThat(lines).hasSize(223);
        assertThat(lines).noneMatch(RawLine::isBlank);
    }

    /** Each stage's sample reads with core's rules: mostly good records, a few bad lines, both DPO shapes, distill prompts. */
    @Test
    void everyStageHasASampleOfItsOwnShape() throws Exception {
        for (Stage stage : Stage.values()) {
            List<RawLine> lines = DemoCommand.lines(DemoCommand.sample(stage));
            long good = 0;
            long promptShaped = 0;
            List<String> reasons = new ArrayList<>();
            for (RawLine line : lines) {
                try {
                    RecordReader.read(StrictJson.parse(line.bytes()), stage, null);
                    good++;
                    promptShaped += StrictJson.parse(line.bytes()).has("prompt") ? 1 : 0;
                } catch (RecordRejected e) {
                    reasons.add(e.reason().name());
                }
            }
            assertThat(good).as(stage.id()).isBetween(60L, 300L);
            assertThat(reasons).as(stage.id()).isNotEmpty().hasSizeLessThan(15);
            switch (stage) {
                case PRETRAIN -> assertThat(reasons).contains("INVALID_JSON", "INVALID_UTF8", "UNKNOWN_FORMAT", "WRONG_TYPE");
                case DPO -> {
                    assertThat(reasons).contains("DPO_PROMPT_MISMATCH");
                    assertThat(promptShaped).as("pairs of both shapes").isPositive().isLessThan(good);
                }
                // prompts: conversations that end in a user turn (core's reader says NO_TRAINABLE_TOKENS; ingest routes them to the teacher)
                case DISTILL -> assertThat(reasons.stream().filter("NO_TRAINABLE_TOKENS"::equals).count()).isGreaterThanOrEqualTo(5);
                default -> { }
            }
        }
    }

    @Test
    void waitsForTheDistinctRecordIdsOfTheAcceptedLines() {
        String good = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String sameInMiniMind = "{\"conversations\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String other = "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}";
        byte[] body = String.join("\n", good, "not json", "", sameInMiniMind, other).getBytes(StandardCharsets.UTF_8);
        List<RawLine> lines = DemoCommand.lines(body);
        IngestClient.Answer answer = new IngestClient.Answer(422, 3, 1, 0, List.of(new IngestClient.LineError(2, "INVALID_JSON", "x")), "");

        DemoCommand.Expected expected = DemoCommand.expected(Stage.SFT, lines, answer);

        assertThat(expected.idsKnown()).isTrue();
        assertThat(expected.ids()).hasSize(2); // lines 1 and 4 are one record
        assertThat(expected.duplicates()).isEqualTo(1);
        assertThat(expected.required(answer.accepted())).isEqualTo(2);

        // When ingest's numbers do not match the lines, only counts can decide.
        IngestClient.Answer odd = new IngestClient.Answer(422, 4, 1, 0, List.of(new IngestClient.LineError(2, "INVALID_JSON", "x")), "");
        assertThat(DemoCommand.expected(Stage.SFT, lines, odd).idsKnown()).isFalse();
        assertThat(DemoCommand.expected(Stage.SFT, lines, odd).required(4)).isEqualTo(4);
    }

    @Test
    void recordIdsArePerStageAndDistillPromptsCountByArrival() {
        String text = "{\"text\": \"Hello\"}";
        List<RawLine> pretrain = DemoCommand.lines(String.join("\n", text, text).getBytes(StandardCharsets.UTF_8));
        DemoCommand.Expected p = DemoCommand.expected(Stage.PRETRAIN, pretrain, new IngestClient.Answer(200, 2, 0, 0, List.of(), ""));
        assertThat(p.idsKnown()).isTrue();
        assertThat(p.ids()).hasSize(1);
        assertThat(p.required(2)).isEqualTo(1);

        String pair = "{\"prompt\": \"Hi\", \"chosen\": \"Hello!\", \"rejected\": \"Go away.\"}";
        DemoCommand.Expected d = DemoCommand.expected(Stage.DPO, DemoCommand.lines(pair.getBytes(StandardCharsets.UTF_8)),
                new IngestClient.Answer(200, 1, 0, 0, List.of(), ""));
        assertThat(d.idsKnown()).isTrue();
        assertThat(d.ids()).hasSize(1);

        String answered = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String prompt = "{\"messages\": [{\"role\": \"user\", \"content\": \"What is 2+2?\"}]}";
        List<RawLine> distill = DemoCommand.lines(String.join("\n", answered, prompt).getBytes(StandardCharsets.UTF_8));
        DemoCommand.Expected x = DemoCommand.expected(Stage.DISTILL, distill, new IngestClient.Answer(200, 2, 0, 1, List.of(), "{\"prompts\": 1}"));
        assertThat(x.idsKnown()).isTrue();
        assertThat(x.ids()).hasSize(1); // the answered one; the prompt is counted on the prompts topic
        assertThat(x.required(2)).isEqualTo(2);
        // the same prompt line sent to sft is not a prompt: a line core rejects means the ids are not known
        assertThat(DemoCommand.expected(Stage.SFT, distill, new IngestClient.Answer(200, 2, 0, 0, List.of(), "")).idsKnown()).isFalse();
    }
}
