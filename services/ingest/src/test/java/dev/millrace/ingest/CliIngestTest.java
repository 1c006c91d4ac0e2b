package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.Millrace;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** {@code ./millrace ingest} (services/cli, run in-process) against this service over a real broker. */
@QuarkusTest
@QuarkusTestResource(IngestTestResource.class)
class CliIngestTest {
    @TestHTTPResource("/")
    URL service;

    @Test
    void theCliSendsAFileInChunksAndItsRecordsAndDeadLettersKeepTheFileAndLine() throws Exception {
        String m = UUID.randomUUID().toString();
        Path dir = Files.createTempDirectory("millrace-cli-ingest-");
        Map<Integer, String> good = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (int n = 1; n <= 7; n++) {
            String line = switch (n) {
                case 2 -> "";
                case 5 -> "{\"conversations\": [{\"role\": \"user\", \"content\": \"only a question " + m + "\"}]}";
                default -> "{\"messages\": [{\"role\": \"user\", \"content\": \"q" + n + " " + m + "\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}";
            };
            if (line.startsWith("{\"messages\"")) {
                good.put(n, line);
            }
            text.append(line).append("\r\n");
        }
        Path file = dir.resolve("part-1.jsonl.gz");
        try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(file))) {
            gz.write(text.toString().getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = Millrace.run(new String[] {"ingest", "--stage", "sft", "--url", service.toString(), "--chunk-lines", "3", dir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

        String stderr = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(stderr).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("files=1 records=6 accepted=5 rejected=1\n");
        assertThat(stderr).contains(file + ":5 NO_TRAINABLE_TOKENS");

        String source = file.toAbsolutePath().normalize().toString();
        List<RawRecord> records = TopicContents.read("millrace.sft.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(source)).toList();
        assertThat(records).extracting(r -> (int) r.getSource().getLine()).containsExactlyInAnyOrderElementsOf(good.keySet());
        for (RawRecord r : records) {
            assertThat(r.getSource().getKind()).isEqualTo("file");
            Object normalised = RecordReader.read(StrictJson.parse(good.get((int) r.getSource().getLine())), Stage.SFT, null).record().normalised();
            assertThat(r.getRecordId()).isEqualTo(RecordId.of(Stage.SFT, normalised));
        }
        List<DeadLetter> letters = AllStagesServiceTest.letters(d -> d.getSource().getName().equals(source));
        assertThat(letters).extracting(d -> d.getSource().getLine()).containsExactly(5L);
        assertThat(letters.get(0).getOriginal().toStringUtf8()).contains("only a question " + m).doesNotEndWith("\r");
    }
}
