package dev.millrace.streams.health;

import dev.millrace.contract.SettingNames;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/**
 * Liveness of a Kafka Streams step service: DOWN while one record has been in process for longer
 * than {@code millrace.stuck-record-after-ms}, naming the step and the record's
 * {@code topic-partition@offset} (docs/failures.md#a-record-that-takes-too-long). A step that cannot
 * finish a record holds its stream thread and everything behind the record; the time budget of the
 * template work should make this impossible, so it stands for a bug: the orchestrator restarts the
 * service, and the operator sees which record.
 */
@Liveness
@Singleton
public class StuckRecordCheck implements HealthCheck {
    static final String NAME = "records in process";

    private final RecordsInProcess records;
    private final Duration limit;

    @Inject
    public StuckRecordCheck(@ConfigProperty(name = SettingNames.PREFIX + "." + SettingNames.STUCK_RECORD_AFTER_MS,
            defaultValue = SettingNames.DEFAULT_STUCK_RECORD_AFTER_MS) long limitMs) {
        this(RecordsInProcess.shared(), Duration.ofMillis(limitMs));
    }

    public StuckRecordCheck(RecordsInProcess records, Duration limit) {
        this.records = records;
        this.limit = limit;
    }

    @Override
    public HealthCheckResponse call() {
        List<RecordsInProcess.Stuck> stuck = records.longerThan(limit);
        HealthCheckResponseBuilder response = HealthCheckResponse.named(NAME).up()
                .withData("in_process", records.size())
                .withData("stuck_record_after_ms", limit.toMillis());
        if (!stuck.isEmpty()) {
            RecordsInProcess.Stuck longest = stuck.get(0);
            response.down()
                    .withData("stuck", stuck.size())
                    .withData("step", longest.step())
                    .withData("record", longest.record())
                    .withData("in_process_ms", longest.inProcessFor().toMillis());
        }
        return response.build();
    }
}
