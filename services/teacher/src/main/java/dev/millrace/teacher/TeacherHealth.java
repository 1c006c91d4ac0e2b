package dev.millrace.teacher;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/** The teacher's health: ready once the model is loaded and prompt partitions are assigned; alive unless one prompt takes stuck-after. */
final class TeacherHealth {
    private TeacherHealth() {
    }

    @Readiness
    @ApplicationScoped
    static class Ready implements HealthCheck {
        @Inject
        TeacherService service;

        @Override
        public HealthCheckResponse call() {
            TeacherLoop loop = service.loop();
            boolean assigned = loop != null && loop.assigned();
            return HealthCheckResponse.named("teacher").status(service.state() == TeacherService.State.ANSWERING && assigned)
                    .withData("state", service.state().name().toLowerCase()).withData("assigned", assigned).build();
        }
    }

    /** DOWN while one prompt has been in process for stuck-after (generation is stuck: restart it). */
    @Liveness
    @ApplicationScoped
    static class Alive implements HealthCheck {
        @Inject
        TeacherService service;

        @Override
        public HealthCheckResponse call() {
            HealthCheckResponseBuilder response = HealthCheckResponse.named("teacher").up();
            TeacherLoop loop = service.loop();
            long since = loop == null ? 0 : loop.inProcessSince();
            if (since != 0) {
                long nanos = System.nanoTime() - since;
                response.withData("seconds_on_current_prompt", nanos / 1_000_000_000L);
                if (nanos >= service.stuckAfter().toNanos()) {
                    response.down().withData("stuck_after_seconds", service.stuckAfter().toSeconds());
                }
            }
            return response.build();
        }
    }
}
