package dev.millrace.it;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.contract.PipelineService;
import java.time.Duration;
import java.util.Map;

/**
 * Fault injection for the exactly-once tests: kill one service of a running {@link LocalSystem} hard,
 * then start it again (the same state directory, so it resumes from its changelogs and committed offsets).
 */
final class ServiceFaults {
    private ServiceFaults() {
    }

    /**
     * Kills a running service with SIGKILL ({@link ProcessHandle#destroyForcibly()}: no shutdown, no
     * last commit, as a crash or an out-of-memory kill) and waits until it is gone.
     *
     * @return its exit status (137 = 128 + SIGKILL on Linux)
     */
    static int kill(LocalSystem system, PipelineService service) throws InterruptedException {
        ManagedProcess process = system.service(service).process();
        if (!process.isAlive()) {
            throw new IllegalStateException(service.id() + " is not running");
        }
        ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
        for (long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos(); process.isAlive(); ) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(service.id() + " (pid " + process.pid() + ") did not end after SIGKILL");
            }
            Thread.sleep(20);
        }
        return process.exitValue();
    }

    /** Starts a killed service again with the run's settings plus {@code overrides}, and waits until it is ready. */
    static void restart(LocalSystem system, PipelineService service, Map<String, String> overrides) {
        system.startService(service, overrides);
    }
}
