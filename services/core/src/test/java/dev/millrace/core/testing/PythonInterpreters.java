package dev.millrace.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Finds a Python for the tests that use a Python reference (core's Jinja2 renderer, the trainer's numpy
 * forward pass): the first of {@code $MILLRACE_PYTHON}, {@code python3} on PATH and {@code /usr/bin/python3}
 * that can import the module. Debian's {@code python3-<module>} packages install for {@code /usr/bin/python3},
 * which need not be the {@code python3} first on PATH; {@code .ci/run} probes the same list. None: the test
 * is skipped with a message, or fails under {@code CI=true}, so a green CI never hides a reference that
 * did not run.
 */
public final class PythonInterpreters {
    private static final Map<String, Optional<String>> FOUND = new ConcurrentHashMap<>();

    private PythonInterpreters() {
    }

    /** The candidates, in the order they are tried. */
    public static List<String> candidates() {
        Set<String> out = new LinkedHashSet<>();
        String configured = System.getenv("MILLRACE_PYTHON");
        if (configured != null && !configured.isBlank()) {
            out.add(configured);
        }
        out.add("python3");
        out.add("/usr/bin/python3");
        return List.copyOf(out);
    }

    /** The first candidate that imports {@code module}, if any (probed once per JVM and module). */
    public static Optional<String> find(String module) {
        return FOUND.computeIfAbsent(module, m -> candidates().stream().filter(p -> imports(p, m)).findFirst());
    }

    /**
     * The interpreter that has {@code module}, or skip the test (fail it under {@code CI=true}) saying what
     * was tried and what to install.
     *
     * @param reference what the interpreter is for, e.g. "the numpy reference"
     */
    public static String require(String module, String reference) {
        Optional<String> python = find(module);
        if (python.isPresent()) {
            return python.get();
        }
        String problem = "no Python with " + module + " found (tried " + String.join(", ", candidates())
                + "); install python3-" + module + " or point MILLRACE_PYTHON at an interpreter that has " + module;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(problem + " (CI=true: " + reference + " must run)");
        }
        abort(problem + "; skipping the comparison with " + reference);
        throw new AssertionError("unreachable");
    }

    private static boolean imports(String python, String module) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import " + module).redirectErrorStream(true).start();
            p.getInputStream().transferTo(OutputStream.nullOutputStream());
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
