package dev.millrace.streams;

import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.record.Stage;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Per-stage settings from config: {@code millrace.<stage>.<key>}, else {@code millrace.<key>}, else
 * the seed's default. Keys: {@code mask-rule} (pattern|span; default by vocabulary),
 * {@code train-on} (all|last), {@code special-tokens-in-content} (allow|reject),
 * {@code system-prompt} (given to conversations without one).
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

    static Optional<String> value(Config config, Stage stage, String key) {
        Optional<String> perStage = config.getOptionalValue("millrace." + stage.id() + "." + key, String.class);
        return perStage.or(() -> config.getOptionalValue("millrace." + key, String.class)).filter(v -> !v.isBlank());
    }
}
