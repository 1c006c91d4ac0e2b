package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * One packaged service of a local run as a child process: started from its jar with its system
 * properties ({@link ServiceProperties}) on a loopback port, its output in a log file, ready once
 * its {@code /q/health/ready} answers 200.
 */
public final class ServiceProcess {
    private final PipelineService service;
    private final int port;
    private final ManagedProcess process;

    ServiceProcess(PipelineService service, int port, ManagedProcess process) {
        this.service = service;
        this.port = port;
        this.process = process;
    }

    /** Its packaged app, {@code services/<id>/target/quarkus-app/quarkus-run.jar}. */
    public static Path jar(Path repoRoot, PipelineService service) {
        return repoRoot.resolve("services").resolve(service.id()).resolve("target/quarkus-app/quarkus-run.jar");
    }

    /**
     * Starts {@code service}'s packaged app with {@code properties} as {@code -D} options; does not wait.
     *
     * @param port the HTTP port its properties give it (readiness is polled there)
     */
    static ServiceProcess launch(Path repoRoot, PipelineService service, int port, Map<String, String> properties, Path log) {
        List<String> command = new ArrayList<>(List.of(ManagedProcess.javaBinary().toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC"));
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar(repoRoot, service).toString());
        return new ServiceProcess(service, port, ManagedProcess.start(service.id(), command, repoRoot, log));
    }

    public PipelineService service() {
        return service;
    }

    public int port() {
        return port;
    }

    /** Its base URI, e.g. {@code http://127.0.0.1:41234}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The child process (its pid, whether it runs, its log). */
    public ManagedProcess process() {
        return process;
    }

    /** Whether its readiness check answers 200 now. */
    boolean isReady(HttpClient http) {
        try {
            HttpRequest request = HttpRequest.newBuilder(uri().resolve("/q/health/ready")).timeout(Duration.ofSeconds(3)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the services", e);
        }
    }

    /**
     * Polls every service until each is ready, calling {@code onReady} for each as it becomes ready.
     *
     * @param checkNotStopped called while waiting; throws to give up (the run is being stopped)
     * @throws IllegalStateException when one exits while starting, or not all are ready within {@code timeout} (with log tails)
     */
    static void awaitReady(Collection<ServiceProcess> services, Duration timeout, Runnable checkNotStopped, Consumer<ServiceProcess> onReady) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<ServiceProcess> pending = new ArrayList<>(services);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty()) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                ServiceProcess s = it.next();
                checkNotStopped.run();
                if (!s.process.isAlive()) {
                    throw new IllegalStateException(s.service.id() + " exited with status " + s.process.exitValue() + " while starting; its log "
                            + s.process.log() + " ends with:" + System.lineSeparator() + s.process.logTail(40));
                }
                if (s.isReady(http)) {
                    onReady.accept(s);
                    it.remove();
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                StringBuilder msg = new StringBuilder("not ready within " + timeout.toSeconds() + " s: ");
                msg.append(pending.stream().map(s -> s.service.id()).collect(Collectors.joining(", ")));
                for (ServiceProcess s : pending) {
                    msg.append(System.lineSeparator()).append("--- ").append(s.process.log()).append(" ends with:")
                            .append(System.lineSeparator()).append(s.process.logTail(20));
                }
                throw new IllegalStateException(msg.toString());
            }
            LocalSystem.sleep(250);
        }
    }
}
