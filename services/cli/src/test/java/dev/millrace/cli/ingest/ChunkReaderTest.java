package dev.millrace.cli.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkReaderTest {

    private static List<Chunk> chunks(Path file, int lines, int bytes, int maxLineBytes) throws IOException {
        List<Chunk> out = new ArrayList<>();
        try (ChunkReader reader = ChunkReader.open(file, lines, bytes, maxLineBytes)) {
            reader.forEachRemaining(out::add);
        }
        return out;
    }

    private static String body(Chunk c) {
        return new String(c.body(), StandardCharsets.UTF_8);
    }

    @Test
    void chunksKeepBlankLinesSoThatTheServiceNumbersLinesAsTheFileDoesAndCrLfEndsALine(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a.jsonl"), "{\"a\":1}\r\n\r\n{\"a\":3}\n  \n{\"a\":5}\r\n{\"a\":6}");

        List<Chunk> chunks = chunks(file, 2, 1 << 20, 1 << 20);

        assertThat(chunks).extracting(Chunk::firstLine).containsExactly(1L, 3L, 5L);
        assertThat(chunks).extracting(Chunk::lines).containsExactly(2, 2, 2);
        assertThat(chunks).extracting(Chunk::records).containsExactly(1, 1, 2);
        assertThat(chunks).extracting(ChunkReaderTest::body).containsExactly("{\"a\":1}\n", "{\"a\":3}\n  ", "{\"a\":5}\n{\"a\":6}");
    }

    @Test
    void aGzipFileReadsAsItsText(@TempDir Path dir) throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 2500; i++) {
            text.append("{\"text\": \"line ").append(i).append("\"}\n");
        }
        Path file = dir.resolve("big.jsonl.gz");
        Files.write(file, gzip(text.toString().getBytes(StandardCharsets.UTF_8)));

        List<Chunk> chunks = chunks(file, 1000, 1 << 20, 1 << 20);

        assertThat(chunks).extracting(Chunk::firstLine).containsExactly(1L, 1001L, 2001L);
        assertThat(chunks).extracting(Chunk::records).containsExactly(1000, 1000, 500);
        assertThat(body(chunks.get(2))).startsWith("{\"text\": \"line 2001\"}\n").endsWith("{\"text\": \"line 2500\"}");
    }

    @Test
    void aChunkEndsBeforeItsByteLimitUnlessOneLineAloneIsLonger(@TempDir Path dir) throws IOException {
        String ten = "0123456789";
        Path file = Files.writeString(dir.resolve("b.jsonl"), ten + "\n" + ten + "\n" + ten.repeat(3) + "\n" + ten + "\n");

        List<Chunk> chunks = chunks(file, 100, 25, 1 << 20);

        assertThat(chunks).extracting(ChunkReaderTest::body).containsExactly(ten + "\n" + ten, ten.repeat(3), ten);
        assertThat(chunks).extracting(Chunk::firstLine).containsExactly(1L, 3L, 4L);
    }

    @Test
    void aLineOverTheLimitIsSentCutToOneByteMoreThanTheLimit(@TempDir Path dir) throws IOException {
        String longLine = "{\"text\": \"" + "x".repeat(100_000) + "\"}";
        Path file = Files.writeString(dir.resolve("c.jsonl"), longLine + "\r\n{\"text\": \"ok\"}\n");

        List<Chunk> chunks = chunks(file, 100, 1 << 20, 1000);

        assertThat(chunks).hasSize(1);
        String[] lines = body(chunks.get(0)).split("\n", -1);
        assertThat(lines[0]).isEqualTo(longLine.substring(0, 1001));
        assertThat(lines[1]).isEqualTo("{\"text\": \"ok\"}");
        assertThat(chunks.get(0).records()).isEqualTo(2);
    }

    @Test
    void aCorruptGzipFileFailsWhileReading(@TempDir Path dir) throws IOException {
        byte[] gz = gzip("{\"text\": \"a\"}\n".repeat(1000).getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("bad.jsonl.gz");
        Files.write(file, Arrays.copyOf(gz, gz.length / 2));

        assertThatThrownBy(() -> chunks(file, 100, 1 << 20, 1 << 20)).isInstanceOf(UncheckedIOException.class);
    }

    static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }
}
