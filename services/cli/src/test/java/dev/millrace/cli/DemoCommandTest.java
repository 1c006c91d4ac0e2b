package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.local.IngestClient;
import dev.millrace.core.json.RawLine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
    }

    @Test
    void saysWhatToBuildWhenThePackagedSystemIsMissing(@TempDir Path emptyCheckout) {
        CliRun run = CliRun.of("demo", "--repo-root", emptyCheckout.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err())
                .contains("services/kafka-local/target/lib")
                .contains("services/ingest/target/quarkus-app/quarkus-run.jar")
                .contains("./mvnw -DskipTests package")
                .doesNotContain("Exception"); // a message, not a stack trace
    }

    @Test
    void theBundledSampleIsThere() {
        List<RawLine> lines = DemoCommand.lines(DemoCommand.sample());
        assertThat(lines).hasSize(223);
        assertThat(lines).noneMatch(RawLine::isBlank);
    }

    @Test
    void waitsForTheDistinctRecordIdsOfTheAcceptedLines() {
        String good = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String sameInMiniMind = "{\"conversations\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}]}";
        String other = "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}";
        byte[] body = String.join("\n", good, "not json", "", sameInMiniMind, other).getBytes(StandardCharsets.UTF_8);
        List<RawLine> lines = DemoCommand.lines(body);
        IngestClient.Answer answer = new IngestClient.Answer(422, 3, 1, List.of(new IngestClient.LineError(2, "INVALID_JSON", "x")), "");

        DemoCommand.Expected expected = DemoCommand.expected(lines, answer);

        assertThat(expected.idsKnown()).isTrue();
        assertThat(expected.ids()).hasSize(2); // lines 1 and 4 are one record

        // When ingest's numbers do not match the lines, only counts can decide.
        IngestClient.Answer odd = new IngestClient.Answer(422, 4, 1, List.of(new IngestClient.LineError(2, "INVALID_JSON", "x")), "");
        assertThat(DemoCommand.expected(lines, odd).idsKnown()).isFalse();
    }
}
