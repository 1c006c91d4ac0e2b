package dev.millrace.streams.config;

import dev.millrace.contract.PipelineService;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.PartialRenderPolicy;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import org.eclipse.microprofile.config.spi.Converter;

/**
 * The converters of the typed configs ({@code @WithConverter}): a value is accepted exactly as the
 * CLI and core accept it (lower-case ids, whole numbers in range), else the mapping fails at startup
 * with SmallRye's message naming the key and the value, followed by the reason given here.
 */
public final class SettingConverters {
    private SettingConverters() {
    }

    // Values given by their id: the type's fromId, which accepts the lower-case ids only.

    public static final class StageId implements Converter<Stage> {
        @Override
        public Stage convert(String value) {
            return Stage.fromId(value.trim());
        }
    }

    public static final class ServiceId implements Converter<PipelineService> {
        @Override
        public PipelineService convert(String value) {
            return PipelineService.fromId(value.trim());
        }
    }

    public static final class MaskRuleId implements Converter<MaskRule> {
        @Override
        public MaskRule convert(String value) {
            return MaskRule.fromId(value.trim());
        }
    }

    public static final class TrainOnId implements Converter<TrainOn> {
        @Override
        public TrainOn convert(String value) {
            return TrainOn.fromId(value.trim());
        }
    }

    public static final class SpecialTokensId implements Converter<SpecialTokenPolicy> {
        @Override
        public SpecialTokenPolicy convert(String value) {
            return SpecialTokenPolicy.fromId(value.trim());
        }
    }

    public static final class PartialRenderId implements Converter<PartialRenderPolicy> {
        @Override
        public PartialRenderPolicy convert(String value) {
            return PartialRenderPolicy.fromId(value.trim());
        }
    }

    public static final class WrapId implements Converter<Wrap> {
        @Override
        public Wrap convert(String value) {
            return Wrap.fromId(value.trim());
        }
    }

    public static final class PretrainOverflowId implements Converter<PretrainOverflow> {
        @Override
        public PretrainOverflow convert(String value) {
            return PretrainOverflow.fromId(value.trim());
        }
    }

    public static final class PackingId implements Converter<Packing> {
        @Override
        public Packing convert(String value) {
            return Packing.fromId(value.trim());
        }
    }

    /** A whole number of at least 1 (a size, a count). */
    public static final class Positive implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) wholeNumber(value, 1, Integer.MAX_VALUE);
        }
    }

    /** A whole number of at least 1, up to a long (milliseconds). */
    public static final class PositiveLong implements Converter<Long> {
        @Override
        public Long convert(String value) {
            return wholeNumber(value, 1, Long.MAX_VALUE);
        }
    }

    /** A whole number of at least 0 (a linger in milliseconds). */
    public static final class NonNegativeLong implements Converter<Long> {
        @Override
        public Long convert(String value) {
            return wholeNumber(value, 0, Long.MAX_VALUE);
        }
    }

    /** A row length T: at least 2 (a row predicts the next token). */
    public static final class SeqLen implements Converter<Integer> {
        @Override
        public Integer convert(String value) {
            return (int) wholeNumber(value, 2, Integer.MAX_VALUE);
        }
    }

    private static long wholeNumber(String value, long min, long max) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a whole number");
        }
        if (n < min) {
            throw new IllegalArgumentException("must be at least " + min);
        }
        if (n > max) {
            throw new IllegalArgumentException("must be at most " + max);
        }
        return n;
    }
}
