package dev.millrace.ingest;

import dev.millrace.core.record.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * The checks of {@link IngestConfig}'s values. SmallRye runs them when it maps the config and names
 * the key and the value in front of the message of a value they refuse.
 */
final class ConfigConverters {
    private ConfigConverters() {
    }

    /** A stage id ({@code pretrain}, {@code sft}, {@code dpo}, {@code distill}). */
    public static final class StageId implements Converter<Stage> {
        @Override
        public Stage convert(String value) {
            return Stage.fromId(value);
        }
    }

    /** A whole number, 1 or more. */
    public static final class PositiveInt implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            return Math.toIntExact(positive(value, Integer.MAX_VALUE, "must be a whole number from 1 to " + Integer.MAX_VALUE));
        }
    }

    /** A whole number, 1 or more. */
    public static final class PositiveLong implements Converter<Long> {
        @Override
        public Long convert(String value) {
            return positive(value, Long.MAX_VALUE, "must be a whole number, 1 or more");
        }
    }

    /** A path that is a directory or does not exist yet (ingest creates it), made absolute; blank: none. */
    public static final class DropDir implements Converter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                return null; // SmallRye's "not set": the drop directory is off
            }
            Path dir = Path.of(value).toAbsolutePath().normalize();
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException(dir + " exists and is not a directory");
            }
            return dir;
        }
    }

    private static long positive(String value, long max, String rule) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(rule);
        }
        if (n < 1 || n > max) {
            throw new IllegalArgumentException(rule);
        }
        return n;
    }
}
