package dev.millrace.cli.local;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the repository root, where the packaged broker and services are: the system property
 * {@code millrace.repo.root} (the root {@code millrace} script and the Maven tests set it), else the
 * environment variable {@code MILLRACE_HOME}, else the checkout this CLI was built in
 * ({@code services/cli/target/...}), else the working directory or one of its parents.
 */
public final class RepoRoot {
    private RepoRoot() {
    }

    public static Optional<Path> locate() {
        String property = System.getProperty("millrace.repo.root");
        if (property != null && !property.isBlank()) {
            return Optional.of(Path.of(property).toAbsolutePath().normalize());
        }
        String env = System.getenv("MILLRACE_HOME");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env).toAbsolutePath().normalize());
        }
        Optional<Path> fromCode = fromCodeLocation();
        if (fromCode.isPresent()) {
            return fromCode;
        }
        return searchUp(Path.of("").toAbsolutePath());
    }

    /** Whether {@code dir} looks like a Millrace checkout. */
    public static boolean isRoot(Path dir) {
        return Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("services/kafka-local"));
    }

    private static Optional<Path> fromCodeLocation() {
        try {
            var source = RepoRoot.class.getProtectionDomain().getCodeSource();
            if (source == null || source.getLocation() == null) {
                return Optional.empty();
            }
            return searchUp(Path.of(source.getLocation().toURI()).toAbsolutePath());
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> searchUp(Path start) {
        for (Path p = start; p != null; p = p.getParent()) {
            if (isRoot(p)) {
                return Optional.of(p.normalize());
            }
        }
        return Optional.empty();
    }
}
