package dev.millrace.core.record;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Record ids (docs/semantics.md#record-ids): hex SHA-256 of the stage name, a newline, and the normalised
 * record's canonical JSON (UTF-8, keys sorted, no insignificant whitespace). Because the input is
 * the normalised record, the same conversation gets the same id whatever format it came in.
 */
public final class RecordId {
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private RecordId() {
    }

    /** @param normalised plain Java maps, lists, strings, numbers, booleans and nulls */
    public static String of(Stage stage, Object normalised) {
        return sha256Hex(stage.id() + "\n" + canonicalJson(normalised));
    }

    public static String canonicalJson(Object normalised) {
        try {
            return CANONICAL.writeValueAsString(normalised);
        } catch (Exception e) {
            throw new IllegalArgumentException("record cannot be written as JSON", e);
        }
    }

    static String sha256Hex(String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
