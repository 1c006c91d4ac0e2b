package dev.millrace.trainer;

import dev.millrace.training.run.TrainingRun;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/** The trainer's health: ready once its run is open; alive unless no step finished for stuck-after while batches wait. */
final class TrainerHealth {
    private TrainerHealth() {
    }

    /** Ready once the run is open (resumed or initialised, the topic seeked), until it ends. */
    @Readiness
    @ApplicationScoped
    static class Ready implements HealthCheck {
        @Inject
        TrainerService service;

        @Override
        public HealthCheckResponse call() {
            TrainingRun run = service.run();
            HealthCheckResponseBuilder response = HealthCheckResponse.named("trainer").status(service.state() == TrainerService.State.TRAINING)
                    .withData("state", service.state().name().toLowerCase());
            if (run != null) {
                response.withData("stage", run.settings().stage().id());
            }
            return response.build();
        }
    }

    /** DOWN when no step finished for stuck-after while batches wait for the trainer (it is stuck: restart it). */
    @Liveness
    @ApplicationScoped
    static class Alive implements HealthCheck {
        @Inject
        TrainerService service;

        @Override
        public HealthCheckResponse call() {
            TrainingRun run = service.run();
            HealthCheckResponseBuilder response = HealthCheckResponse.named("trainer").up();
            if (run != null && service.state() == TrainerService.State.TRAINING) {
                long now = System.nanoTime();
                boolean waiting = run.batchesWaiting();
                long sinceStep = now - run.lastStepNanos();
                response.withData("batches_waiting", waiting).withData("seconds_since_last_step", sinceStep / 1_000_000_000L);
                if (TrainingRun.stuck(now, run.lastStepNanos(), waiting, service.stuckAfter())) {
                    response.down().withData("stuck_after_seconds", service.stuckAfter().toSeconds());
                }
            }
            return response.build();
        }
    }
}
