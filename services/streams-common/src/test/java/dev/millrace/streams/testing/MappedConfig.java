package dev.millrace.streams.testing;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import dev.millrace.streams.config.OtherServicesSettings;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a service's typed config ({@code @ConfigMapping}) outside Quarkus, the way the app reads
 * it: the module's {@code application.properties} (no profile active), then the given values, which
 * win; expressions expanded; unknown keys under the mapping's prefix refused but for the ones the
 * other services read. A bad value or a misspelt key fails here as it stops the app at startup.
 */
public final class MappedConfig {
    private MappedConfig() {
    }

    /**
     * As the app reads it: with the module's {@link OtherServicesSettings}, found where Quarkus finds it
     * (META-INF/services), so there must be exactly one.
     */
    public static <T> T of(Class<T> mapping, Map<String, String> values) {
        return build(mapping, values, registeredOtherServicesSettings());
    }

    /** As {@code service} reads it (for a module that registers no {@link OtherServicesSettings}). */
    public static <T> T of(Class<T> mapping, Map<String, String> values, PipelineService service) {
        return build(mapping, values, new OtherServicesSettings(service));
    }

    /**
     * Stricter than the app: every key under the prefix must be one {@code mapping} maps, another
     * service's too (for the test that a service reads every key it is given).
     */
    public static <T> T everyKeyMapped(Class<T> mapping, Map<String, String> values) {
        return build(mapping, values, null);
    }

    /** The module's one {@link OtherServicesSettings}, as registered in META-INF/services. */
    public static OtherServicesSettings registeredOtherServicesSettings() {
        List<OtherServicesSettings> registered = ServiceLoader.load(SmallRyeConfigBuilderCustomizer.class).stream()
                .map(ServiceLoader.Provider::get).filter(OtherServicesSettings.class::isInstance).map(OtherServicesSettings.class::cast)
                .toList();
        if (registered.size() != 1) {
            throw new IllegalStateException("expected one OtherServicesSettings in META-INF/services, found " + registered);
        }
        return registered.get(0);
    }

    /**
     * The full keys {@code mapping} maps (under {@link SettingNames#PREFIX}), sorted; a list's indexed
     * form ({@code millrace.stages[*]}) is left out.
     */
    public static Set<String> mappedKeys(Class<?> mapping) {
        Set<String> keys = new TreeSet<>(ConfigMappings.getProperties(new ConfigMappings.ConfigClass(mapping, SettingNames.PREFIX)).keySet());
        keys.removeIf(key -> key.endsWith("[*]"));
        return keys;
    }

    private static <T> T build(Class<T> mapping, Map<String, String> values, OtherServicesSettings otherServices) {
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
        if (otherServices != null) {
            builder.withCustomizers(otherServices);
        }
        SmallRyeConfig config = builder.build();
        return config.getConfigMapping(mapping);
    }
}
