package dev.millrace.core.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LineReader} with a bound on the bytes it keeps of each line. */
class BoundedLineReaderTest {

    private static List<RawLine> read(String text, int keep) {
        LineReader reader = new LineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), keep);
        List<RawLine> lines = new ArrayList<>();
        reader.forEachRemaining(lines::add);
        assertThat(reader.linesRead()).isEqualTo(lines.size());
        return lines;
    }

    private static String text(RawLine line) {
        return new String(line.bytes(), StandardCharsets.UTF_8);
    }

    @Test
    void splitsOnNewlinesDropsOneCarriageReturnAndNumbersBlankLines() {
        List<RawLine> lines = read("a\r\n\n  \t\nb\r\r\nlast", 100);

        assertThat(lines).extracting(BoundedLineReaderTest::text).containsExactly("a", "", "  \t", "b\r", "last");
        assertThat(lines).extracting(RawLine::number).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(lines).extracting(RawLine::blank).containsExactly(false, true, true, false, false);
        assertThat(lines).extracting(RawLine::length).containsExactly(1L, 0L, 3L, 2L, 4L);
    }

    @Test
    void aLongLineKeepsItsFirstBytesAndItsTrueLength() {
        String longLine = "x".repeat(200_000);
        List<RawLine> lines = read(longLine + "\r\nshort\n" + " ".repeat(100) + "\n", 10);

        assertThat(lines).hasSize(3);
        assertThat(text(lines.get(0))).isEqualTo("x".repeat(10));
        assertThat(lines.get(0).length()).isEqualTo(200_000);
        assertThat(lines.get(0).cut()).isTrue();
        assertThat(text(lines.get(1))).isEqualTo("short");
        assertThat(lines.get(1).cut()).isFalse();
        assertThat(lines.get(2).blank()).as("a long blank line is still blank").isTrue();
    }

    @Test
    void aCarriageReturnAtTheKeepLimitIsNotPartOfTheLine() {
        List<RawLine> lines = read("abc\r\n", 4);
        assertThat(text(lines.get(0))).isEqualTo("abc");
        assertThat(lines.get(0).length()).isEqualTo(3);
        assertThat(lines.get(0).cut()).isFalse();
    }

    @Test
    void anEmptyStreamHasNoLinesAndATrailingNewlineEndsTheLastLine() {
        assertThat(read("", 10)).isEmpty();
        assertThat(read("a\n", 10)).extracting(BoundedLineReaderTest::text).containsExactly("a");
    }
}
