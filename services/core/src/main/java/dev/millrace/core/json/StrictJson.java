package dev.millrace.core.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses one JSONL line strictly: the bytes must be valid UTF-8 (never replaced), and the line
 * must hold exactly one JSON value (trailing content after the first object is an error, unlike
 * Jackson's lenient default), no object may repeat a key (which value was meant is ambiguous; Jackson
 * would silently keep the last), no number lies beyond the range of a double (Jackson would read
 * {@code 1e400} as infinity, which JSON cannot express and canonical JSON would write as the string
 * {@code "Infinity"}), and the parser's limits below hold: a line past one is {@code INVALID_JSON}
 * naming the limit, like any other line that is not JSON (docs/reasons.md).
 */
public final class StrictJson {
    // The parser's limits, pinned at Jackson 2.21's defaults so that docs/reasons.md can name them and
    // a Jackson upgrade cannot move them silently. A line is at most millrace.ingest.max-record-bytes
    // (1 MiB by default), so the string-length limit is kept at Jackson's 20,000,000 characters.
    public static final int MAX_NESTING_DEPTH = 1000;
    /** Characters of one number (digits, sign, fraction and exponent). */
    public static final int MAX_NUMBER_LENGTH = 1000;
    /** Characters of one object key. */
    public static final int MAX_NAME_LENGTH = 50_000;
    public static final int MAX_STRING_LENGTH = 20_000_000;

    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING_DEPTH)
                            .maxNumberLength(MAX_NUMBER_LENGTH)
                            .maxNameLength(MAX_NAME_LENGTH)
                            .maxStringLength(MAX_STRING_LENGTH)
                            .build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    /**
     * Reads record lines (and JSON strings embedded in them): {@link #MAPPER} plus duplicate-key
     * detection, kept off {@code MAPPER} itself, which also reads tokenizer folders' files.
     */
    private static final ObjectReader LINES = MAPPER.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
    /** Jackson's message for a repeated key (the exception carries the name nowhere else). */
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'", Pattern.DOTALL);
    /** The Java method Jackson names after a limit's value: noise to a user. */
    private static final Pattern LIMIT_SOURCE = Pattern.compile(", from `[^`]*`\\)");
    /** Characters of a repeated key quoted in a message; a key may be up to 50,000. */
    private static final int KEY_SHOWN = 100;

    private StrictJson() {
    }

    public static String decodeUtf8(byte[] bytes) throws RecordRejected {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new RecordRejected(Reason.INVALID_UTF8,
                    "the line is not valid UTF-8 (first bad byte at offset " + firstBadByte(bytes) + ")");
        }
    }

    public static JsonNode parse(byte[] bytes) throws RecordRejected {
        return parse(decodeUtf8(bytes));
    }

    public static JsonNode parse(String text) throws RecordRejected {
        try {
            JsonNode node = LINES.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new RecordRejected(Reason.INVALID_JSON, "the line holds no JSON value");
            }
            String infinite = infiniteNumber(node);
            if (infinite != null) {
                throw new RecordRejected(Reason.INVALID_JSON, "not valid JSON: the number at " + (infinite.isEmpty() ? "the top" : infinite)
                        + " is too large: beyond ±" + Double.MAX_VALUE + ", the largest a double (as numbers are read here) holds");
            }
            return node;
        } catch (StreamConstraintsException e) {
            // Jackson gives no location for these: the message is all there is.
            throw new RecordRejected(Reason.INVALID_JSON, "past a limit of the JSON parser: "
                    + LIMIT_SOURCE.matcher(e.getOriginalMessage()).replaceFirst(")"));
        } catch (JsonProcessingException e) {
            Matcher duplicate = DUPLICATE.matcher(e.getOriginalMessage());
            String what = duplicate.matches()
                    ? "duplicate key " + quoted(duplicate.group(1)) + " in one object (which value is meant is ambiguous)"
                    : e.getOriginalMessage();
            throw new RecordRejected(Reason.INVALID_JSON, "not valid JSON: " + what + column(e.getLocation()));
        }
    }

    /**
     * Where a floating-point number too large for a double is (Jackson reads it as infinity): a JSON
     * Pointer ({@code ""} for the value itself), or null when there is none. Integers of any size stay
     * exact (BigInteger) and a number too small for a double is 0, still a number: only infinity is refused.
     */
    private static String infiniteNumber(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return Double.isFinite(node.doubleValue()) ? null : "";
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String inner = infiniteNumber(node.get(i));
                if (inner != null) {
                    return "/" + i + inner;
                }
            }
        } else if (node.isObject()) {
            for (var field : node.properties()) {
                String inner = infiniteNumber(field.getValue());
                if (inner != null) {
                    return "/" + pointerToken(field.getKey()) + inner;
                }
            }
        }
        return null;
    }

    /** A key as a JSON Pointer token ({@code ~} and {@code /} escaped), cut like a quoted key. */
    private static String pointerToken(String key) {
        String shown = key.length() > KEY_SHOWN ? key.substring(0, KEY_SHOWN) + "…" : key;
        return shown.replace("~", "~0").replace("/", "~1");
    }

    private static String column(JsonLocation location) {
        return location == null || location.getColumnNr() < 1 ? "" : " (column " + location.getColumnNr() + ")";
    }

    private static String quoted(String key) {
        String shown = key.length() > KEY_SHOWN ? key.substring(0, KEY_SHOWN) + "…" : key;
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(shown)) + "\"";
    }

    /** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
    static int firstBadByte(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
        decoder.decode(in, out, true);
        return in.position();
    }
}
