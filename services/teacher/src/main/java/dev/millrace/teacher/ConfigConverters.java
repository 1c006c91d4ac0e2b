package dev.millrace.teacher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * The checks of {@link TeacherConfig}'s values. SmallRye runs them when it maps the config and names the key
 * and the value in front of the message of a value they refuse. Each returns null for a blank value, SmallRye's
 * "not set" (a required key is then reported missing, an optional one is empty).
 */
final class ConfigConverters {
    private ConfigConverters() {
    }

    public static final class PositiveInt implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            long n;
            try {
                n = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be a whole number from 1 to " + Integer.MAX_VALUE);
            }
            if (n < 1 || n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("must be a whole number from 1 to " + Integer.MAX_VALUE);
            }
            return (int) n;
        }
    }

    /** A sampling temperature: 0 (greedy) or more. */
    public static final class Temperature implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x >= 0)) {
                throw new IllegalArgumentException("must be 0 (greedy) or a number above 0");
            }
            return x;
        }
    }

    /** Nucleus sampling's mass: above 0, up to 1. */
    public static final class TopP implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x > 0 && x <= 1)) {
                throw new IllegalArgumentException("must be a number above 0 and at most 1");
            }
            return x;
        }
    }

    public static final class Policy implements Converter<OnMaxNewTokens> {
        @Override
        public OnMaxNewTokens convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return OnMaxNewTokens.parse(value);
        }
    }

    /** A trainer checkpoint directory (it holds config.json and model.safetensors), made absolute. */
    public static final class CheckpointDir implements Converter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            Path dir = Path.of(value.trim()).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(dir + " is not a directory");
            }
            if (!Files.isRegularFile(dir.resolve("model.safetensors")) || !Files.isRegularFile(dir.resolve("config.json"))) {
                throw new IllegalArgumentException(dir + " is not a checkpoint (no model.safetensors and config.json in it); give one checkpoint"
                        + " directory (e.g. <checkpoint-dir>/step-00000100), not the trainer's checkpoint-dir");
            }
            return dir;
        }
    }

    /** An instance id: a transactional id and group instance id, so letters, digits, '.', '_' and '-'. */
    public static final class InstanceId implements Converter<String> {
        private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");

        @Override
        public String convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            if (!ID.matcher(value.trim()).matches()) {
                throw new IllegalArgumentException("must be 1 to 200 letters, digits, '.', '_' or '-'");
            }
            return value.trim();
        }
    }

    public static final class PositiveDuration implements Converter<Duration> {
        @Override
        public Duration convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            Duration d = duration(value);
            if (d.isZero()) {
                throw new IllegalArgumentException("must be longer than 0");
            }
            return d;
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

    /** A duration as Quarkus writes them: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 2h}, {@code 1d}, bare seconds, or ISO-8601. */
    static Duration duration(String value) {
        String text = value.trim();
        Matcher m = DURATION.matcher(text.toLowerCase(Locale.ROOT));
        Duration d;
        if (m.matches()) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("is too long a duration");
            }
            String unit = m.group(2) == null ? "s" : m.group(2);
            d = switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            try {
                d = Duration.parse(text);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("must be a duration such as 500ms, 30s, 10m, 2h, 1d or PT10M");
            }
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("cannot be negative");
        }
        return d;
    }

    private static double decimal(String value) {
        double x;
        try {
            x = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a number");
        }
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("must be a finite number");
        }
        return x;
    }
}
