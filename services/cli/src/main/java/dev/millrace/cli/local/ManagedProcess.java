package dev.millrace.cli.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child process of the local run: its standard output and error go to one log file, and
 * {@link #stop} asks it to end (SIGTERM), waits, then forces it.
 */
public final class ManagedProcess {
    private final String name;
    private final Process process;
    private final Path log;

    private ManagedProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code command} with its output (both streams) appended to {@code log}. */
    public static ManagedProcess start(String name, List<String> command, Path workDir, Path log) {
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            ProcessBuilder pb = new ProcessBuilder(ignoringInterrupt(command))
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.PIPE);
            return new ManagedProcess(name, pb.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs the command with SIGINT ignored (a shell sets the disposition, then execs it: same pid).
     * A terminal's Ctrl-C goes to the whole foreground process group; the children must not all
     * stop at once, or the services wait for a broker that is already gone. The parent stops them
     * in order (SIGTERM, which they still handle) from its shutdown hook.
     */
    static List<String> ignoringInterrupt(List<String> command) {
        if (!Files.isExecutable(Path.of("/bin/sh"))) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", "trap '' INT; exec \"$0\" \"$@\""));
        wrapped.addAll(command);
        return wrapped;
    }

    /** The {@code java} of this JVM, for the Java children (the broker and the services); else the one on PATH. */
    static Path javaBinary() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java : Path.of("java");
    }

    public String name() {
        return name;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The exit status, or -1 while it runs. */
    public int exitValue() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** Asks the process to end; does not wait. */
    public void requestStop() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: Quarkus and the broker shut down cleanly
        }
    }

    /**
     * Waits up to {@code grace} for the process to end after {@link #requestStop}, then kills it.
     *
     * @return true when it ended by itself within the grace period
     */
    public boolean awaitStop(Duration grace) {
        try {
            if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            return false;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits up to {@code timeout} for the process to end by itself; true when it has ended. */
    public boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** SIGTERM, wait up to {@code grace}, then SIGKILL. */
    public boolean stop(Duration grace) {
        requestStop();
        return awaitStop(grace);
    }

    /** The last {@code n} lines of the log (for error messages). */
    public String logTail(int n) {
        return tail(log, n);
    }

    static String tail(Path file, int n) {
        try {
            if (!Files.exists(file)) {
                return "(no log written)";
            }
            String[] all = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\r?\n");
            List<String> lines = new ArrayList<>(List.of(all).subList(Math.max(0, all.length - n), all.length));
            return String.join(System.lineSeparator(), lines);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }
}
