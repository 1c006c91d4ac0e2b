package dev.millrace.cli;

/**
 * Where the commands that talk to a running deployment ({@code ingest}, {@code trace}, {@code dlq})
 * look when not told otherwise: the addresses and topic prefix the services use by default.
 */
final class DeploymentDefaults {
    /** The broker address of a local deployment (the services' default {@code kafka.bootstrap.servers}). */
    static final String BOOTSTRAP = "127.0.0.1:9092";
    /** The ingest service's default HTTP address. */
    static final String INGEST_URL = "http://127.0.0.1:8081";
    /** The services' default {@code millrace.topic-prefix}. */
    static final String TOPIC_PREFIX = "millrace";

    private DeploymentDefaults() {
    }
}
