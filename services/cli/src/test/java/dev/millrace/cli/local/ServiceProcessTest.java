package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting one service and waiting for it, without packaged services (services/it starts the real ones). */
class ServiceProcessTest {

    @Test
    void aServiceIsStartedFromItsJarWithItsPropertiesAndAnExitWhileStartingIsReportedWithItsLog(@TempDir Path root) throws Exception {
        Path jar = ServiceProcess.jar(root, PipelineService.TOKENIZE);
        Files.createDirectories(jar.getParent());
        Files.write(jar, new byte[0]); // not a jar: the JVM says so and exits
        ServiceProcess s = ServiceProcess.launch(root, PipelineService.TOKENIZE, 4711, Map.of("millrace.stages", "sft"), root.resolve("logs/tokenize.log"));

        assertThatThrownBy(() -> ServiceProcess.awaitReady(List.of(s), Duration.ofSeconds(60), () -> { }, ready -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("tokenize exited with status 1 while starting")
                .hasMessageContaining(root.resolve("logs/tokenize.log").toString())
                .hasMessageContaining(jar.toString());
        assertThat(s.process().isAlive()).isFalse();
        assertThat(s.uri()).hasToString("http://127.0.0.1:4711");
    }

    @Test
    void aServiceIsReadyWhenItsReadinessCheckAnswers200(@TempDir Path dir) throws Exception {
        AtomicInteger checks = new AtomicInteger();
        HttpServer health = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        health.createContext("/q/health/ready", exchange -> {
            exchange.sendResponseHeaders(checks.incrementAndGet() < 3 ? 503 : 200, -1);
            exchange.close();
        });
        health.start();
        ManagedProcess sleeper = ManagedProcess.start("ingest", List.of("sleep", "60"), dir, dir.resolve("ingest.log"));
        try {
            ServiceProcess s = new ServiceProcess(PipelineService.INGEST.id(), health.getAddress().getPort(), sleeper);
            List<ServiceProcess> ready = new ArrayList<>();

            ServiceProcess.awaitReady(List.of(s), Duration.ofSeconds(30), () -> { }, ready::add);

            assertThat(ready).containsExactly(s);
            assertThat(checks.get()).isEqualTo(3);
        } finally {
            sleeper.stop(Duration.ofSeconds(10));
            health.stop(0);
        }
    }

    @Test
    void aServiceThatIsNotReadyInTimeIsNamedWithItsLog(@TempDir Path dir) throws Exception {
        HttpServer health = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        health.createContext("/q/health/ready", exchange -> {
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        health.start();
        ManagedProcess sleeper = ManagedProcess.start("loss-mask", List.of("sh", "-c", "echo still starting; exec sleep 60"), dir, dir.resolve("loss-mask.log"));
        try {
            ServiceProcess s = new ServiceProcess(PipelineService.LOSS_MASK.id(), health.getAddress().getPort(), sleeper);
            assertThatThrownBy(() -> ServiceProcess.awaitReady(List.of(s), Duration.ofSeconds(1), () -> { }, ready -> { }))
                    .hasMessageContaining("not ready within 1 s: loss-mask").hasMessageContaining(dir.resolve("loss-mask.log").toString());
        } finally {
            sleeper.stop(Duration.ofSeconds(10));
            health.stop(0);
        }
    }
}
