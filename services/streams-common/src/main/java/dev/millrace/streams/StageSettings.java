package dev.millrace.streams;

import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.record.Stage;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Per-stage settings from config: {@code millrace.<stage>.<key>}, else {@code millrace.<key>}, else
 * the seed's default. Keys: {@code mask-rule} (pattern|span; default by vocabulary),
 * {@code train-on} (all|last), {@code special-tokens-in-content} (allow|reject),
 * {@code system-prompt} (given to conversations without one), {@code wrap} (pretrain bos/eos:
 * auto|always|never), {@code pretrain-overflow} (truncate|split), {@code packing} (on|off, default
 * off), {@code pack-buffer} (examples the packer looks at together, default 512).
 */
public final class StageSettings {
    private StageSettings() {
    }

    public static SftOptions sftOptions(Stage stage, int seqLen) {
        Config config = ConfigProvider.getConfig();
        return new SftOptions(stage, seqLen, null,
                value(config, stage, "mask-rule").map(MaskRule::fromId).orElse(null),
                value(config, stage, "train-on").map(TrainOn::fromId).orElse(TrainOn.ALL),
                value(config, stage, "special-tokens-in-content").map(SpecialTokenPolicy::fromId).orElse(SpecialTokenPolicy.ALLOW),
                value(config, stage, "system-prompt").orElse(null));
    }

    /** The pretrain path (wrap and overflow rule) of this stage's config. */
    public static PretrainPreparer pretrainPreparer(TokenizerFolder folder, Stage stage, int seqLen) {
        Config config = ConfigProvider.getConfig();
        Wrap wrap = value(config, stage, "wrap").map(Wrap::fromId).orElse(Wrap.AUTO);
        String overflow = value(config, stage, "pretrain-overflow").orElse("truncate");
        if (!overflow.equals("truncate") && !overflow.equals("split")) {
            throw new IllegalArgumentException("millrace." + stage.id() + ".pretrain-overflow must be truncate or split, was " + overflow);
        }
        return new PretrainPreparer(folder, seqLen, null, wrap, overflow.equals("split"));
    }

    /** Whether this stage's rows are packed ({@code packing=on}); off by default, like the seed. */
    public static boolean packing(Stage stage) {
        String packing = value(ConfigProvider.getConfig(), stage, "packing").orElse("off");
        if (!packing.equals("on") && !packing.equals("off")) {
            throw new IllegalArgumentException("millrace." + stage.id() + ".packing must be on or off, was " + packing);
        }
        return packing.equals("on");
    }

    /** How many examples the packer considers together ({@code pack-buffer}). */
    public static int packBuffer(Stage stage) {
        int buffer = value(ConfigProvider.getConfig(), stage, "pack-buffer").map(Integer::parseInt).orElse(Packer.DEFAULT_BUFFER);
        if (buffer < 1) {
            throw new IllegalArgumentException("millrace." + stage.id() + ".pack-buffer must be at least 1, was " + buffer);
        }
        return buffer;
    }

    static Optional<String> value(Config config, Stage stage, String key) {
        Optional<String> perStage = config.getOptionalValue("millrace." + stage.id() + "." + key, String.class);
        return perStage.or(() -> config.getOptionalValue("millrace." + key, String.class)).filter(v -> !v.isBlank());
    }
}
