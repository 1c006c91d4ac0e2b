package dev.millrace.ingest;

import java.util.HashMap;
import java.util.Map;

/**
 * The client settings of every {@code kafka.*} property (bootstrap servers, SASL/TLS, ...), as
 * Quarkus collects them in its {@code default-kafka-broker} map.
 */
final class BrokerSettings {
    private BrokerSettings() {
    }

    static Map<String, Object> clientConfig(Map<String, Object> defaultKafkaBroker) {
        Map<String, Object> config = new HashMap<>(defaultKafkaBroker);
        // Quarkus adds the application name as group.id for consumers; producers and admins would warn about it.
        config.remove("group.id");
        return config;
    }
}
