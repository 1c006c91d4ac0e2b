package dev.millrace.ingest;

import io.quarkus.runtime.Startup;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import org.eclipse.microprofile.config.Config;

/**
 * Stops the service at startup on a key under {@code millrace.ingest.} that {@link IngestConfig} does
 * not read: only ingest reads that prefix, so such a key is a typo that would silently leave a
 * setting at its default. (SmallRye's own check of unknown keys is off for all of {@code millrace.},
 * where the other services' keys belong too.)
 */
@Startup
@Singleton
public class UnknownIngestKeys {
    @Inject
    UnknownIngestKeys(Config config) {
        List<String> unknown = IngestConfig.unknownIngestKeys(config.getPropertyNames());
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("not a setting of ingest: " + String.join(", ", unknown)
                    + " (docs/architecture.md#service-settings lists the millrace.ingest.* keys)");
        }
    }
}
