package dev.millrace.streams.testing;

import dev.millrace.streams.config.OtherServicesSettings;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Map;

/**
 * Builds a service's typed config ({@code @ConfigMapping}) outside Quarkus, the way the app reads
 * it: the module's {@code application.properties} (no profile active), then the given values, which
 * win; expressions expanded; unknown keys under the mapping's prefix refused. A bad value fails
 * here as it stops the app at startup.
 */
public final class MappedConfig {
    private MappedConfig() {
    }

    /** As the app reads it: other services' own keys are let through ({@link OtherServicesSettings}). */
    public static <T> T of(Class<T> mapping, Map<String, String> values) {
        return build(mapping, values, true);
    }

    /**
     * Stricter than the app: every key under the prefix must be one {@code mapping} maps, another
     * service's too (for the test that a service reads every key it is given).
     */
    public static <T> T everyKeyMapped(Class<T> mapping, Map<String, String> values) {
        return build(mapping, values, false);
    }

    private static <T> T build(Class<T> mapping, Map<String, String> values, boolean letOtherServicesKeysThrough) {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .withMapping(mapping)
                .withValidateUnknown(true)
                .withSources(new PropertiesConfigSource(values, "test values", 400));
        URL properties = Thread.currentThread().getContextClassLoader().getResource("application.properties");
        if (properties != null) {
            try {
                builder.withSources(new PropertiesConfigSource(properties, 250));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (letOtherServicesKeysThrough) {
            builder.withCustomizers(new OtherServicesSettings());
        }
        SmallRyeConfig config = builder.build();
        return config.getConfigMapping(mapping);
    }
}
