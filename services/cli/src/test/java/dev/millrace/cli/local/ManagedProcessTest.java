package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the local run's child processes log and stop. */
class ManagedProcessTest {

    @Test
    void aManagedProcessStopsOnSigtermAndKeepsItsLog(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sh", "-c", "echo started; exec sleep 60"), dir, dir.resolve("logs/sleeper.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.logTail(5).contains("started") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).isTrue();
        assertThat(p.stop(Duration.ofSeconds(10))).as("ended by itself on SIGTERM").isTrue();
        assertThat(p.isAlive()).isFalse();
        assertThat(p.logTail(5)).isEqualTo("started");
    }

    @Test
    void childrenIgnoreTheTerminalsCtrlCSoThatTheLauncherStopsThemInOrder(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("sleeper", List.of("sleep", "60"), dir, dir.resolve("sleeper.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!ProcessHandle.of(p.pid()).flatMap(h -> h.info().command()).orElse("").endsWith("sleep") && System.nanoTime() < deadline) {
            Thread.sleep(20); // until the wrapping shell has set the disposition and exec'd the command
        }
        assertThat(new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor()).isZero();
        // SIGINT is sent before SIGTERM; had it not been ignored, it would still be pending when SIGTERM
        // comes and, the lower number, be delivered first: the process would end by SIGINT (130), not 143.
        assertThat(p.stop(Duration.ofSeconds(10))).as("ended by SIGTERM").isTrue();
        assertThat(p.exitValue()).as("exit status: ended by SIGTERM (128 + 15), not by the SIGINT sent before it (128 + 2)").isEqualTo(143);
    }

    @Test
    void aProcessThatIgnoresSigtermIsKilledAfterTheGracePeriod(@TempDir Path dir) throws Exception {
        ManagedProcess p = ManagedProcess.start("stubborn", List.of("sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done"),
                dir, dir.resolve("stubborn.log"));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.logTail(5).contains("started") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(p.stop(Duration.ofMillis(300))).as("needed SIGKILL").isFalse();
        assertThat(p.isAlive()).isFalse();
    }
}
