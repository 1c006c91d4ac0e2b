package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The drop directory of the running service over a real broker ({@link IngestTestResource}: polled
 * every 100 ms, chunks of 3 lines).
 */
@QuarkusTest
@QuarkusTestResource(IngestTestResource.class)
class DropDirectoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFileWithGoodAndBadLinesEndsInDoneWithEveryRecordAndADeadLetterPerBadLine() throws Exception {
        String m = UUID.randomUUID().toString();
        Map<Integer, String> good = new LinkedHashMap<>();
        Map<Integer, String> bad = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (int n = 1; n <= 11; n++) {
            if (n == 4) {
                text.append("\r\n"); // blank: skipped, still counted
            } else if (n % 5 == 0) {
                bad.put(n, "{\"conversations\": [{\"role\": \"robot\", \"content\": \"" + n + " " + m + "\"}]}");
                text.append(bad.get(n)).append("\r\n");
            } else {
                good.put(n, "{\"conversations\": [{\"content\": \"q" + n + " " + m + "\"}, {\"content\": \"a\"}]}");
                text.append(good.get(n)).append(n == 11 ? "" : "\n");
            }
        }
        Path file = drop("sft", m + ".jsonl", text.toString().getBytes(StandardCharsets.UTF_8));

        JsonNode report = awaitReport("sft", "done", m + ".jsonl");

        assertThat(file).doesNotExist();
        assertThat(report.path("status").asText()).isEqualTo("done");
        assertThat(report.path("file").asText()).isEqualTo(file.toString());
        assertThat(report.path("lines").asLong()).isEqualTo(11);
        assertThat(report.path("accepted").asLong()).isEqualTo(good.size());
        assertThat(report.path("rejected").asLong()).isEqualTo(bad.size());
        assertThat(report.has("error")).isFalse();

        List<RawRecord> records = TopicContents.read("millrace.sft.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(file.toString())).toList();
        assertThat(records).extracting(r -> (int) r.getSource().getLine()).containsExactlyInAnyOrderElementsOf(good.keySet());
        for (RawRecord r : records) {
            Object normalised = RecordReader.read(StrictJson.parse(good.get((int) r.getSource().getLine())), Stage.SFT, null).record().normalised();
            assertThat(r.getRecordId()).isEqualTo(RecordId.of(Stage.SFT, normalised));
            assertThat(r.getSource().getKind()).isEqualTo("file");
        }
        List<DeadLetter> letters = AllStagesServiceTest.letters(d -> d.getSource().getName().equals(file.toString()));
        assertThat(letters).extracting(d -> (int) d.getSource().getLine()).containsExactlyInAnyOrderElementsOf(bad.keySet());
        for (DeadLetter d : letters) {
            assertThat(d.getReason()).isEqualTo("UNKNOWN_ROLE");
            assertThat(d.getSource().getKind()).isEqualTo("file");
            assertThat(d.getOriginal().toStringUtf8()).isEqualTo(bad.get((int) d.getSource().getLine()));
        }
    }

    @Test
    void aFileWithLinesPastTheJsonParsersLimitsIsIngestedOnceWithADeadLetterPerSuchLine() throws Exception {
        // Each bad line is under %test.millrace.ingest.max-record-bytes=2048, so it reaches the parser.
        String m = UUID.randomUUID().toString();
        List<String> lines = List.of(
                "{\"conversations\": [{\"content\": \"q1 " + m + "\"}, {\"content\": \"a\"}]}",
                "{\"conversations\":" + "[".repeat(1200),
                "{\"n\": " + "9".repeat(1500) + "}",
                "{\"conversations\": [], \"conversations\": [{\"content\": \"q\"}, {\"content\": \"a\"}]}",
                "{\"conversations\": [{\"content\": \"q5 " + m + "\"}, {\"content\": \"a\"}]}");
        Path file = drop("sft", m + ".jsonl", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));

        JsonNode report = awaitReport("sft", "done", m + ".jsonl");

        assertThat(file).doesNotExist();
        assertThat(report.path("lines").asLong()).isEqualTo(5);
        assertThat(report.path("accepted").asLong()).isEqualTo(2);
        assertThat(report.path("rejected").asLong()).isEqualTo(3);
        List<DeadLetter> letters = AllStagesServiceTest.letters(d -> d.getSource().getName().equals(file.toString()));
        assertThat(letters).as("one dead letter per bad line: the file was read once")
                .extracting(d -> d.getSource().getLine()).containsExactlyInAnyOrder(2L, 3L, 4L);
        for (DeadLetter d : letters) {
            assertThat(d.getReason()).isEqualTo("INVALID_JSON");
            assertThat(d.getOriginal().toStringUtf8()).isEqualTo(lines.get((int) d.getSource().getLine() - 1));
        }
        assertThat(letterOfLine(letters, 2).getMessage()).contains("nesting depth");
        assertThat(letterOfLine(letters, 3).getMessage()).contains("Number value length");
        assertThat(letterOfLine(letters, 4).getMessage()).contains("duplicate key \"conversations\"");
    }

    private static DeadLetter letterOfLine(List<DeadLetter> letters, long line) {
        return letters.stream().filter(d -> d.getSource().getLine() == line).findFirst().orElseThrow();
    }

    @Test
    void aGzipFileOfDistillRecordsIsReadAndItsPromptsGoToDistillPrompts() throws Exception {
        String m = UUID.randomUUID().toString();
        String prompt = "{\"messages\": [{\"role\": \"user\", \"content\": \"p " + m + "\"}]}";
        String answered = "{\"teacher\": \"ckpt-7\", \"messages\": [{\"role\": \"user\", \"content\": \"q " + m + "\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}";
        Path file = drop("distill", m + ".jsonl.gz", gzip((prompt + "\n" + answered + "\n").getBytes(StandardCharsets.UTF_8)));

        JsonNode report = awaitReport("distill", "done", m + ".jsonl.gz");

        assertThat(report.path("accepted").asLong()).isEqualTo(2);
        assertThat(report.path("prompts").asLong()).isEqualTo(1);
        List<RawRecord> prompts = TopicContents.read("millrace.distill.prompts").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(file.toString())).toList();
        List<RawRecord> answers = TopicContents.read("millrace.distill.raw").stream().map(AllStagesServiceTest::raw)
                .filter(r -> r.getSource().getName().equals(file.toString())).toList();
        assertThat(prompts).extracting(r -> r.getSource().getLine()).containsExactly(1L);
        assertThat(answers).extracting(RawRecord::getTeacherId).containsExactly("ckpt-7");
    }

    @Test
    void aCorruptGzipFileEndsInFailedWithAReportAndUnfinishedNamesAreLeftAlone() throws Exception {
        String m = UUID.randomUUID().toString();
        Path hidden = drop("pretrain", "." + m + ".jsonl", "{\"text\": \"x\"}\n".getBytes(StandardCharsets.UTF_8));
        Path partial = drop("pretrain", m + ".jsonl.tmp", "{\"text\": \"y\"}\n".getBytes(StandardCharsets.UTF_8));
        StringBuilder text = new StringBuilder();
        for (int n = 1; n <= 2000; n++) {
            text.append("{\"text\": \"line ").append(n).append(' ').append(m).append("\"}\n");
        }
        byte[] gz = gzip(text.toString().getBytes(StandardCharsets.UTF_8));
        byte[] corrupt = Arrays.copyOf(gz, gz.length);
        for (int i = gz.length / 2; i < gz.length - 8; i++) {
            corrupt[i] = (byte) 0x5a; // the deflate stream breaks half way
        }
        drop("pretrain", m + ".jsonl.gz", corrupt);

        JsonNode report = awaitReport("pretrain", "failed", m + ".jsonl.gz");

        assertThat(report.path("status").asText()).isEqualTo("failed");
        assertThat(report.path("error").asText()).contains("could not be read");
        assertThat(report.has("lines")).isTrue();
        assertThat(report.path("accepted").asLong()).isLessThanOrEqualTo(report.path("lines").asLong());
        assertThat(hidden).exists();
        assertThat(partial).exists();
    }

    /** Writes the file under a temporary name and renames it into place, as writers should. */
    private static Path drop(String stage, String name, byte[] bytes) throws IOException {
        Path dir = IngestTestResource.dropDir().resolve(stage);
        Path tmp = dir.resolve("." + name + ".writing");
        Files.write(tmp, bytes);
        return Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static JsonNode awaitReport(String stage, String outcome, String name) throws Exception {
        Path report = IngestTestResource.dropDir().resolve(stage).resolve(outcome).resolve(name + ".report.json");
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.exists(report)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no report " + report + " within 60 s; " + stage + " holds "
                        + Arrays.toString(IngestTestResource.dropDir().resolve(stage).toFile().list()));
            }
            Thread.sleep(50);
        }
        assertThat(report.resolveSibling(name)).as("the file is moved beside its report").exists();
        return JSON.readTree(report.toFile());
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }
}
