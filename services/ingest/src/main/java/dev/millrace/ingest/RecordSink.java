package dev.millrace.ingest;

import java.util.concurrent.CompletableFuture;

/** Where ingest puts records: a future that completes once the broker has acknowledged the record. */
public interface RecordSink {
    /** Never throws: a failure to send comes back as a failed future. */
    CompletableFuture<Void> send(String topic, String key, byte[] value);
}
