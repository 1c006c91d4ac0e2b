package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The persistent run directory's lock, and the check of a fixed port before anything starts. */
class RunDirLockTest {

    @Test
    void aSecondRunOnTheSameDirectoryIsRefusedUntilTheFirstReleasesIt(@TempDir Path dir) {
        RunDirLock first = RunDirLock.acquire(dir);
        assertThatThrownBy(() -> RunDirLock.acquire(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the data directory " + dir + " is in use by another running millrace up")
                .hasMessageContaining("(pid " + ProcessHandle.current().pid() + ")");
        first.release();
        RunDirLock.acquire(dir).release();
    }

    @Test
    void aTakenFixedPortIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> LocalSystem.checkPortFree(taken.getLocalPort(), "ingest")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("port " + taken.getLocalPort() + " (for ingest) is in use by another process: stop it, or choose another port");
        }
    }

    @Test
    void aPersistentRunNeedsItsDirectory() {
        assertThatThrownBy(() -> LocalSystem.start(Path.of("."), new LocalSystem.Options().persistent(true)))
                .hasMessageContaining("a persistent run needs its run directory");
    }
}
