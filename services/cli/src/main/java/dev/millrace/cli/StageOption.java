package dev.millrace.cli;

import dev.millrace.core.record.Stage;
import java.util.Optional;

/** Parses the optional {@code --stage} of {@code trace} and {@code dlq}. */
final class StageOption {
    private StageOption() {
    }

    /** A {@code --stage} value (empty when not given); a usage error for an unknown stage. */
    static Optional<Stage> parse(String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(Stage.fromId(value));
        } catch (IllegalArgumentException e) {
            throw new Millrace.UsageError(e.getMessage());
        }
    }
}
