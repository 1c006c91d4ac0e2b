package dev.millrace.cli;

import dev.millrace.core.record.Stage;
import java.util.Optional;

/** Defaults and option parsing shared by the operator commands ({@code trace}, {@code dlq}). */
final class OpsDefaults {
    /** The broker address of a local deployment (the services' default {@code kafka.bootstrap.servers}). */
    static final String BOOTSTRAP = "127.0.0.1:9092";
    /** The ingest service's default HTTP address. */
    static final String INGEST_URL = "http://127.0.0.1:8081";

    private OpsDefaults() {
    }

    /** A {@code --stage} value (empty when not given); a usage error for an unknown stage. */
    static Optional<Stage> stage(String value) {
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
