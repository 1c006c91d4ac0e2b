package dev.millrace.contract;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The {@code millrace_} metrics every step reports: records in and out, dead letters by reason,
 * warnings by code (Prometheus names: {@code millrace_records_in_total{service,stage}}, ...).
 */
public final class StepMetrics {
    private final MeterRegistry registry;
    private final String service;
    private final String stage;
    private final Counter in;
    private final Counter out;

    public StepMetrics(MeterRegistry registry, String service, Stage stage) {
        this.registry = registry;
        this.service = service;
        this.stage = stage.id();
        this.in = registry.counter("millrace.records.in", "service", service, "stage", this.stage);
        this.out = registry.counter("millrace.records.out", "service", service, "stage", this.stage);
    }

    public void in() {
        in.increment();
    }

    public void out() {
        out.increment();
    }

    public void deadLetter(Reason reason) {
        registry.counter("millrace.dead.letters", "service", service, "stage", stage, "reason", reason.name()).increment();
    }

    public void warning(Warning warning) {
        registry.counter("millrace.warnings", "service", service, "stage", stage, "warning", warning.name()).increment();
    }

    public MeterRegistry registry() {
        return registry;
    }

    public String stage() {
        return stage;
    }

    public String service() {
        return service;
    }
}
