package dev.millrace.trainer;

import dev.millrace.core.record.Stage;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * The checks of {@link TrainerConfig}'s values. SmallRye runs them when it maps the config and names the key
 * and the value in front of the message of a value they refuse. SmallRye also hands them the empty value of
 * a key that is not set: each returns null for a blank value, SmallRye's "not set" (a required key is then
 * reported missing, an optional one is empty).
 */
final class ConfigConverters {
    private ConfigConverters() {
    }

    /** A stage the trainer trains: pretrain, sft, dpo or distill. */
    public static final class TrainedStage implements Converter<Stage> {
        @Override
        public Stage convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return Stage.fromId(value.trim());
        }
    }

    /** A model preset: tiny or minimind-26m. */
    public static final class ModelPreset implements Converter<String> {
        @Override
        public String convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            String name = value.trim();
            ModelConfig.preset(name, 6400, 1, 2, 0); // refuses an unknown name, naming the presets
            return name;
        }
    }

    /** T: a whole number, 2 or more. */
    public static final class SeqLen implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return (int) whole(value, 2, Integer.MAX_VALUE, "must be a whole number from 2 to " + Integer.MAX_VALUE);
        }
    }

    public static final class PositiveInt implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return (int) whole(value, 1, Integer.MAX_VALUE, "must be a whole number from 1 to " + Integer.MAX_VALUE);
        }
    }

    public static final class NonNegativeInt implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return (int) whole(value, 0, Integer.MAX_VALUE, "must be a whole number from 0 to " + Integer.MAX_VALUE);
        }
    }

    public static final class PositiveLong implements Converter<Long> {
        @Override
        public Long convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return whole(value, 1, Long.MAX_VALUE, "must be a whole number, 1 or more");
        }
    }

    public static final class NonNegativeLong implements Converter<Long> {
        @Override
        public Long convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return whole(value, 0, Long.MAX_VALUE, "must be a whole number, 0 or more");
        }
    }

    /** How DPO reduces a side's token log-probs: sum or mean. */
    public static final class DpoLogProb implements Converter<DpoLoss.LogProb> {
        @Override
        public DpoLoss.LogProb convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return DpoLoss.LogProb.parse(value.trim());
        }
    }

    public static final class PositiveDouble implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x > 0)) {
                throw new IllegalArgumentException("must be a number above 0");
            }
            return x;
        }
    }

    public static final class NonNegativeDouble implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x >= 0)) {
                throw new IllegalArgumentException("must be a number, 0 or more");
            }
            return x;
        }
    }

    /** A share: a number from 0 to 1, both included. */
    public static final class UnitInterval implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x >= 0 && x <= 1)) {
                throw new IllegalArgumentException("must be a number from 0 to 1");
            }
            return x;
        }
    }

    /** An Adam beta: from 0 up to, not including, 1. */
    public static final class Beta implements Converter<Double> {
        @Override
        public Double convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            double x = decimal(value);
            if (!(x >= 0 && x < 1)) {
                throw new IllegalArgumentException("must be a number from 0 up to (not including) 1");
            }
            return x;
        }
    }

    public static final class NonNegativeDuration implements Converter<Duration> {
        @Override
        public Duration convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return duration(value);
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

    /** A path, made absolute; it need not exist (yet). */
    public static final class AbsolutePath implements Converter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            return Path.of(value.trim()).toAbsolutePath().normalize();
        }
    }

    /** A directory, or a path that does not exist yet (it is created), made absolute. */
    public static final class Directory implements Converter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            Path dir = Path.of(value.trim()).toAbsolutePath().normalize();
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException(dir + " exists and is not a directory");
            }
            return dir;
        }
    }

    /** A file that exists, made absolute. */
    public static final class ExistingFile implements Converter<Path> {
        @Override
        public Path convert(String value) {
            if (value.isBlank()) {
                return null;
            }
            Path file = Path.of(value.trim()).toAbsolutePath().normalize();
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(file + " is not a file");
            }
            return file;
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

    /**
     * A duration as Quarkus writes them: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 2h}, {@code 1d}, a bare
     * number of seconds, or ISO-8601 ({@code PT10M}); not negative.
     */
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

    private static long whole(String value, long min, long max, String rule) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(rule);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(rule);
        }
        return n;
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
