package dev.millrace.core.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Parses one JSONL line strictly: the bytes must be valid UTF-8 (never replaced), and the line
 * must hold exactly one JSON value (trailing content after the first object is an error, unlike
 * Jackson's lenient default).
 */
public final class StrictJson {
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

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
            JsonNode node = MAPPER.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new RecordRejected(Reason.INVALID_JSON, "the line holds no JSON value");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new RecordRejected(Reason.INVALID_JSON, "not valid JSON: " + e.getOriginalMessage()
                    + " (column " + e.getLocation().getColumnNr() + ")");
        }
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
