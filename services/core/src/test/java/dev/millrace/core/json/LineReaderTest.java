package dev.millrace.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class LineReaderTest {

    private static List<RawLine> readAll(byte[] input) {
        return readAll(new ByteArrayInputStream(input));
    }

    private static List<RawLine> readAll(InputStream in) {
        LineReader reader = new LineReader(in);
        List<RawLine> lines = new ArrayList<>();
        while (reader.hasNext()) {
            lines.add(reader.next());
        }
        return lines;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(RawLine line) {
        return new String(line.bytes(), StandardCharsets.UTF_8);
    }

    @Test
    void splitsOnLfAndNumbersLinesFromOne() {
        List<RawLine> lines = readAll(utf8("a\nbb\nccc\n"));

        assertThat(lines).extracting(RawLine::number).containsExactly(1L, 2L, 3L);
        assertThat(lines).extracting(LineReaderTest::text).containsExactly("a", "bb", "ccc");
    }

    @Test
    void dropsTheCarriageReturnOfCrLfEndings() {
        List<RawLine> lines = readAll(utf8("a\r\nb\r\n"));

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("a", "b");
    }

    @Test
    void mixedLfAndCrLfEndingsGiveTheSameLines() {
        List<RawLine> lines = readAll(utf8("a\r\nb\nc\r\n"));

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("a", "b", "c");
    }

    @Test
    void keepsACarriageReturnThatIsNotAtTheLineEnd() {
        List<RawLine> lines = readAll(utf8("a\rb\n"));

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("a\rb");
    }

    @Test
    void returnsTheLastLineWithoutATrailingNewline() {
        List<RawLine> lines = readAll(utf8("first\nlast"));

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("first", "last");
        assertThat(lines.get(1).number()).isEqualTo(2);
    }

    @Test
    void lastLineWithoutNewlineButWithCarriageReturnLosesTheCarriageReturn() {
        List<RawLine> lines = readAll(utf8("first\nlast\r"));

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("first", "last");
    }

    @Test
    void aTrailingNewlineDoesNotProduceAnExtraEmptyLine() {
        assertThat(readAll(utf8("only\n"))).hasSize(1);
    }

    @Test
    void blankLinesAreReturnedAndCountInTheLineNumbers() {
        List<RawLine> lines = readAll(utf8("a\n\n  \r\nb\n"));

        assertThat(lines).extracting(RawLine::number).containsExactly(1L, 2L, 3L, 4L);
        assertThat(lines).extracting(RawLine::isBlank).containsExactly(false, true, true, false);
        assertThat(text(lines.get(3))).isEqualTo("b");
    }

    @Test
    void aLoneNewlineIsOneBlankLine() {
        List<RawLine> lines = readAll(utf8("\n"));

        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).bytes()).isEmpty();
        assertThat(lines.get(0).number()).isEqualTo(1);
    }

    @Test
    void emptyInputHasNoLines() {
        LineReader reader = new LineReader(new ByteArrayInputStream(new byte[0]));

        assertThat(reader.hasNext()).isFalse();
        assertThatThrownBy(reader::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void hasNextCanBeCalledRepeatedlyWithoutSkippingLines() {
        LineReader reader = new LineReader(new ByteArrayInputStream(utf8("a\nb\n")));

        assertThat(reader.hasNext()).isTrue();
        assertThat(reader.hasNext()).isTrue();
        assertThat(text(reader.next())).isEqualTo("a");
        assertThat(text(reader.next())).isEqualTo("b");
        assertThat(reader.hasNext()).isFalse();
    }

    @Test
    void aLineLongerThanTheBufferIsReturnedWhole() {
        byte[] longLine = new byte[3 * 64 * 1024 + 17];
        for (int i = 0; i < longLine.length; i++) {
            longLine[i] = (byte) ('a' + i % 26);
        }
        byte[] input = concat(utf8("short\n"), longLine, utf8("\r\nafter\n"));

        List<RawLine> lines = readAll(input);

        assertThat(lines).hasSize(3);
        assertThat(lines.get(1).bytes()).isEqualTo(longLine);
        assertThat(lines.get(1).number()).isEqualTo(2);
        assertThat(text(lines.get(2))).isEqualTo("after");
        assertThat(lines.get(2).number()).isEqualTo(3);
    }

    @Test
    void aCrLfSplitAcrossBufferRefillsIsStillOneLineEnd() {
        // The '\r' is the last byte of the first 64 KiB read and the '\n' the first of the next.
        byte[] line = new byte[64 * 1024 - 1];
        Arrays.fill(line, (byte) 'x');
        byte[] input = concat(line, utf8("\r\nnext"));

        List<RawLine> lines = readAll(input);

        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).bytes()).isEqualTo(line);
        assertThat(text(lines.get(1))).isEqualTo("next");
    }

    @Test
    void worksWithAStreamThatReturnsOneByteAtATime() {
        InputStream trickle = new ByteArrayInputStream(utf8("ab\r\n\ncd")) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };

        List<RawLine> lines = readAll(trickle);

        assertThat(lines).extracting(LineReaderTest::text).containsExactly("ab", "", "cd");
        assertThat(lines).extracting(RawLine::number).containsExactly(1L, 2L, 3L);
    }

    @Test
    void bytesThatAreNotUtf8PassThroughUntouched() {
        byte[] bad = {'{', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE, '}', (byte) 0x80};
        byte[] input = concat(bad, utf8("\n"), utf8("ok"));

        List<RawLine> lines = readAll(input);

        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).bytes()).isEqualTo(bad);
        assertThat(text(lines.get(1))).isEqualTo("ok");
    }

    @Test
    void multiByteUtf8IsKeptAsItsBytes() {
        byte[] chinese = utf8("你好😀");

        List<RawLine> lines = readAll(concat(chinese, utf8("\n")));

        assertThat(lines.get(0).bytes()).isEqualTo(chinese);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
