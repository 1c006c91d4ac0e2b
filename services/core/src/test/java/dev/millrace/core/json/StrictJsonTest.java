package dev.millrace.core.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrictJsonTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static RecordRejected rejectionOf(byte[] bytes) {
        return catchThrowableOfType(RecordRejected.class, () -> StrictJson.parse(bytes));
    }

    private static RecordRejected rejectionOf(String text) {
        return catchThrowableOfType(RecordRejected.class, () -> StrictJson.parse(text));
    }

    @Test
    void validObjectParses() throws Exception {
        JsonNode node = StrictJson.parse(utf8("{\"text\": \"héllo 你好 😀\", \"n\": [1, 2.5, true, null]}"));

        assertThat(node.isObject()).isTrue();
        assertThat(node.get("text").asText()).isEqualTo("héllo 你好 😀");
        assertThat(node.get("n")).hasSize(4);
        assertThat(node.get("n").get(1).doubleValue()).isEqualTo(2.5);
    }

    @Test
    void surroundingWhitespaceIsAllowed() throws Exception {
        assertThat(StrictJson.parse("  {\"a\": 1}\t ").get("a").asInt()).isEqualTo(1);
    }

    @Test
    void invalidUtf8IsRejectedAsInvalidUtf8WithTheOffsetOfTheFirstBadByte() {
        // "ab" then 0xC3 (a lead byte) followed by '(' which is no continuation byte.
        byte[] bytes = {'{', '"', 'a', 'b', (byte) 0xC3, '(', '"', '}'};

        RecordRejected e = rejectionOf(bytes);

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_UTF8);
        assertThat(e.getMessage()).contains("offset 4");
    }

    @Test
    void invalidUtf8AtTheFirstByteReportsOffsetZero() {
        RecordRejected e = rejectionOf(new byte[] {(byte) 0xFF, '{', '}'});

        assertThat(e.reason()).isEqualTo(Reason.INVALID_UTF8);
        assertThat(e.getMessage()).contains("offset 0");
    }

    @Test
    void aMultiByteSequenceCutOffAtTheEndIsInvalidUtf8() {
        byte[] full = utf8("\"你\"");               // 22 E4 BD A0 22
        byte[] cut = {full[0], full[1], full[2]};   // 22 E4 BD

        RecordRejected e = rejectionOf(cut);

        assertThat(e.reason()).isEqualTo(Reason.INVALID_UTF8);
        assertThat(e.getMessage()).contains("offset 1");
    }

    @Test
    void validMultiByteCharactersBeforeTheBadByteCountInBytesNotChars() {
        byte[] prefix = utf8("\"你好");              // 1 + 3 + 3 = 7 bytes
        byte[] bytes = new byte[prefix.length + 2];
        System.arraycopy(prefix, 0, bytes, 0, prefix.length);
        bytes[prefix.length] = (byte) 0x80;          // a lone continuation byte
        bytes[prefix.length + 1] = '"';

        RecordRejected e = rejectionOf(bytes);

        assertThat(e.reason()).isEqualTo(Reason.INVALID_UTF8);
        assertThat(e.getMessage()).contains("offset 7");
    }

    @Test
    void overlongEncodingsAndEncodedSurrogatesAreNotUtf8() {
        assertThat(rejectionOf(new byte[] {'"', (byte) 0xC0, (byte) 0xAF, '"'}).reason()).isEqualTo(Reason.INVALID_UTF8);
        assertThat(rejectionOf(new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}).reason())
                .isEqualTo(Reason.INVALID_UTF8);
    }

    @Test
    void invalidUtf8InsideAStringIsNeverReplaced() {
        // Latin-1 "é" (0xE9) inside otherwise valid JSON must not decode to U+FFFD and parse.
        RecordRejected e = rejectionOf(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xE9, '"', '}'});

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_UTF8);
    }

    @Test
    void decodeUtf8ReturnsTheTextForValidBytes() throws Exception {
        assertThat(StrictJson.decodeUtf8(utf8("x 你好 😀"))).isEqualTo("x 你好 😀");
    }

    @Test
    void twoObjectsOnOneLineAreInvalidJson() {
        RecordRejected e = rejectionOf(utf8("{\"a\": 1} {\"b\": 2}"));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
    }

    @Test
    void trailingGarbageAfterAnObjectIsInvalidJson() {
        assertThat(rejectionOf("{\"a\": 1}x").reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(rejectionOf("{\"a\": 1},").reason()).isEqualTo(Reason.INVALID_JSON);
    }

    @Test
    void aCutOffStringIsInvalidJsonWithAColumn() {
        RecordRejected e = rejectionOf(utf8("{\"text\": \"abc"));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(e.getMessage()).contains("column");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\": 1", "{\"a\": }", "{'a': 1}", "{a: 1}", "{\"a\": 01}", "{\"a\": NaN}", "[1, 2,]", "nul"})
    void malformedJsonIsInvalidJson(String line) {
        RecordRejected e = rejectionOf(line);

        assertThat(e).as(line).isNotNull();
        assertThat(e.reason()).as(line).isEqualTo(Reason.INVALID_JSON);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void aLineWithNoValueIsInvalidJson(String line) {
        RecordRejected e = rejectionOf(line);

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
    }

    @Test
    void aNonObjectValueStillParses() throws Exception {
        // Whether it is a usable record is decided later (InputFormat): here it is valid JSON.
        assertThat(StrictJson.parse("[1, 2]").isArray()).isTrue();
        assertThat(StrictJson.parse("42").asInt()).isEqualTo(42);
    }

    /** Lines past each of the parser's limits (StreamReadConstraints), with the limit's words in Jackson's message. */
    static final String TOO_DEEP = "[".repeat(1500) + "]".repeat(1500);
    static final String TOO_LONG_NUMBER = "{\"n\": " + "1".repeat(1500) + "}";
    static final String TOO_LONG_KEY = "{\"" + "k".repeat(60_000) + "\": 1}";

    @Test
    void aLinePastTheNestingLimitIsInvalidJsonNamingTheLimit() {
        RecordRejected e = rejectionOf(utf8(TOO_DEEP));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(e.getMessage()).contains("nesting depth").contains(String.valueOf(StrictJson.MAX_NESTING_DEPTH));
    }

    @Test
    void aNumberPastTheLengthLimitIsInvalidJsonNamingTheLimit() {
        RecordRejected e = rejectionOf(utf8(TOO_LONG_NUMBER));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(e.getMessage()).contains("Number value length").contains(String.valueOf(StrictJson.MAX_NUMBER_LENGTH));
        RecordRejected fraction = rejectionOf("{\"n\": 0." + "5".repeat(1500) + "}");
        assertThat(fraction.reason()).isEqualTo(Reason.INVALID_JSON);
    }

    @Test
    void aKeyPastTheNameLimitIsInvalidJsonNamingTheLimit() {
        RecordRejected e = rejectionOf(utf8(TOO_LONG_KEY));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(e.getMessage()).contains("Name length").contains(String.valueOf(StrictJson.MAX_NAME_LENGTH));
    }

    @Test
    void justUnderEachLimitStillParses() throws Exception {
        int depth = StrictJson.MAX_NESTING_DEPTH;
        assertThat(StrictJson.parse("[".repeat(depth) + "]".repeat(depth)).isArray()).isTrue();
        assertThat(StrictJson.parse("{\"n\": " + "7".repeat(StrictJson.MAX_NUMBER_LENGTH) + "}").get("n").isIntegralNumber()).isTrue();
        assertThat(StrictJson.parse("{\"" + "k".repeat(StrictJson.MAX_NAME_LENGTH) + "\": 1}").size()).isEqualTo(1);
    }

    @Test
    void aLinePastALimitRejectsOnlyItselfAndTheLinesAfterItStillParse() {
        String input = "{\"a\": 1}\n" + TOO_DEEP + "\n" + TOO_LONG_NUMBER + "\n" + TOO_LONG_KEY + "\n{\"a\": 2}\n";
        LineReader lines = new LineReader(new java.io.ByteArrayInputStream(utf8(input)));
        java.util.List<String> outcomes = new java.util.ArrayList<>();
        while (lines.hasNext()) {
            RawLine line = lines.next();
            try {
                outcomes.add(line.number() + ":" + StrictJson.parse(line.bytes()).get("a").asInt());
            } catch (RecordRejected e) {
                outcomes.add(line.number() + ":" + e.reason());
            }
        }

        assertThat(outcomes).containsExactly("1:1", "2:INVALID_JSON", "3:INVALID_JSON", "4:INVALID_JSON", "5:2");
    }

    @Test
    void aDuplicateKeyIsInvalidJsonNamingTheKey() {
        RecordRejected top = rejectionOf(utf8("{\"text\": \"a\", \"text\": \"b\"}"));
        RecordRejected nested = rejectionOf(utf8("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\", \"role\": \"assistant\"}]}"));

        assertThat(top).isNotNull();
        assertThat(top.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(top.getMessage()).contains("duplicate key \"text\"").contains("column");
        assertThat(nested).isNotNull();
        assertThat(nested.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(nested.getMessage()).contains("duplicate key \"role\"");
    }

    @Test
    void theSameKeyInDifferentObjectsIsNoDuplicate() throws Exception {
        JsonNode node = StrictJson.parse("{\"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\"}], \"x\": {\"role\": 1}}");

        assertThat(node.get("messages")).hasSize(2);
    }

    @Test
    void aNumberBeyondTheLargestDoubleIsInvalidJsonNamingWhereAndWhy() {
        RecordRejected up = rejectionOf("{\"text\": \"x\", \"meta\": {\"score\": 1e400}}");
        RecordRejected down = rejectionOf("{\"tools\": [{\"n\": -1e400}]}");
        RecordRejected fraction = rejectionOf("[" + "9".repeat(400) + ".5]");

        assertThat(up).isNotNull();
        assertThat(up.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(up.getMessage()).contains("/meta/score").contains("too large").contains("double");
        assertThat(down).isNotNull();
        assertThat(down.reason()).isEqualTo(Reason.INVALID_JSON);
        assertThat(down.getMessage()).contains("/tools/0/n");
        assertThat(fraction).isNotNull();
        assertThat(fraction.reason()).isEqualTo(Reason.INVALID_JSON);
    }

    @Test
    void aHugeButFiniteNumberAndAHugeIntegerStillParse() throws Exception {
        assertThat(StrictJson.parse("{\"n\": 1.7976931348623157e308}").get("n").doubleValue()).isEqualTo(Double.MAX_VALUE);
        assertThat(StrictJson.parse("{\"n\": -1e308}").get("n").doubleValue()).isEqualTo(-1e308);
        assertThat(StrictJson.parse("{\"n\": 1e-400}").get("n").doubleValue()).isZero(); // too small: it is 0, still a number
        assertThat(StrictJson.parse("{\"n\": " + "9".repeat(400) + "}").get("n").isBigInteger()).isTrue();
    }
}
