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
 * One packaged Quarkus app of a local run (a pipeline service, a trainer or the teacher) as a child process: started
 * from its jar with its system properties ({@link ServiceProperties}, {@link TrainerProperties}) on a
 * loopback port, its output in a log file, ready once its {@code /q/health/ready} answers 200.
 */
public final class ServiceProcess {
    /** The trainer's module directory under {@code services/}. */
    static final String TRAINER_MODULE = "trainer";
    /** The teacher's module directory under {@code services/}. */
    static final String TEACHER_MODULE = "teacher";
    /** JVM options of a pipeline service: a small heap, a quick start. */
    static final List<String> SERVICE_JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    /** JVM options of a trainer: the model lives in libtorch's native memory; the heap holds batches and the JIT matters. */
    static final List<String> TRAINER_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC");
    /** JVM options of the teacher: as a trainer's (the model in native memory, generation is JIT-bound Java around it). */
    static final List<String> TEACHER_JVM = TRAINER_JVM;

    private final String name;
    private final int port;
    private final ManagedProcess process;

    ServiceProcess(String name, int port, ManagedProcess process) {
        this.name = name;
        this.port = port;
        this.process = process;
    }

    /** The packaged app of a pipeline service, {@code services/<id>/target/quarkus-app/quarkus-run.jar}. */
    public static Path jar(Path repoRoot, PipelineService service) {
        return moduleJar(repoRoot, service.id());
    }

    /** The trainer's packaged app, {@code services/trainer/target/quarkus-app/quarkus-run.jar}. */
    public static Path trainerJar(Path repoRoot) {
        return moduleJar(repoRoot, TRAINER_MODULE);
    }

    /** The teacher's packaged app, {@code services/teacher/target/quarkus-app/quarkus-run.jar}. */
    public static Path teacherJar(Path repoRoot) {
        return moduleJar(repoRoot, TEACHER_MODULE);
    }

    private static Path moduleJar(Path repoRoot, String module) {
        return repoRoot.resolve("services").resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    }

    /**
     * Starts {@code service}'s packaged app with {@code properties} as {@code -D} options; does not wait.
     *
     * @param port the HTTP port its properties give it (readiness is polled there)
     */
    static ServiceProcess launch(Path repoRoot, PipelineService service, int port, Map<String, String> properties, Path log) {
        return launch(repoRoot, service.id(), jar(repoRoot, service), SERVICE_JVM, port, properties, log);
    }

    /** Starts a packaged app under {@code name} (its log's and messages' name); does not wait. */
    static ServiceProcess launch(Path repoRoot, String name, Path jar, List<String> jvmOptions, int port, Map<String, String> properties,
            Path log) {
        List<String> command = new ArrayList<>();
        command.add(ManagedProcess.javaBinary().toString());
        command.addAll(jvmOptions);
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        return new ServiceProcess(name, port, ManagedProcess.start(name, command, repoRoot, log));
    }

    /** Its name: the service's id, {@code trainer-<stage>} or {@code teacher}. */
    public String name() {
        return name;
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
                    throw new IllegalStateException(s.name + " exited with status " + s.process.exitValue() + " while starting; its log "
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
                msg.append(pending.stream().map(s -> s.name).collect(Collectors.joining(", ")));
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
