package dev.millrace.lossmask;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigProviderResolver;

/** Per-test config for the stage settings the topology reads ({@code millrace.<stage>.packing}, ...). */
final class TestConfig {
    private TestConfig() {
    }

    static void use(Map<String, String> values) {
        reset();
        ConfigProviderResolver.instance().registerConfig(
                new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(values, "test", 500)).build(), loader());
    }

    static void reset() {
        ConfigProviderResolver resolver = ConfigProviderResolver.instance();
        resolver.releaseConfig(resolver.getConfig(loader()));
    }

    private static ClassLoader loader() {
        return Thread.currentThread().getContextClassLoader();
    }
}
