package dev.millrace.training.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory of checkpoints named by step ({@code step-00000100}), the newest {@code keep} of them kept.
 * A checkpoint appears whole or not at all: it is written under a temporary name, its files and the
 * directory are flushed to disk, and only then is it renamed into place (a rename within one file system
 * is atomic), so a crash mid-write leaves a {@code .tmp-} directory, never a half checkpoint.
 */
public final class CheckpointStore {
    private static final Pattern NAME = Pattern.compile("step-(\\d+)");
    private static final String TEMP_PREFIX = ".tmp-";

    /** Writes a checkpoint's files into the (empty) directory it is given. */
    @FunctionalInterface
    public interface Writer {
        void write(Path dir) throws IOException;
    }

    private final Path root;
    private final int keep;

    /** Opens (creating it if needed) a checkpoint directory; leftovers of interrupted writes are removed. */
    public CheckpointStore(Path root, int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least 1 checkpoint, got " + keep);
        }
        this.root = root;
        this.keep = keep;
        Files.createDirectories(root);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, TEMP_PREFIX + "*")) {
            for (Path leftover : entries) {
                deleteTree(leftover);
            }
        }
    }

    public static String name(long step) {
        return String.format("step-%08d", step);
    }

    /** The complete checkpoints, oldest first. */
    public List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path p : entries) {
                if (Files.isDirectory(p) && NAME.matcher(p.getFileName().toString()).matches()) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(CheckpointStore::step));
        return out;
    }

    public Optional<Path> newest() throws IOException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** The step a checkpoint directory is named by. */
    public static long step(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(checkpoint + " is not named step-<n>");
        }
        return Long.parseLong(m.group(1));
    }

    /** Writes the checkpoint of {@code step} atomically, then drops all but the newest {@code keep}. */
    public Path write(long step, Writer writer) throws IOException {
        Path target = root.resolve(name(step));
        if (Files.exists(target)) {
            throw new IOException("checkpoint " + target + " already exists");
        }
        Path temp = Files.createTempDirectory(root, TEMP_PREFIX + name(step) + "-");
        try {
            writer.write(temp);
            try (Stream<Path> files = Files.list(temp)) {
                for (Path f : files.toList()) {
                    fsync(f);
                }
            }
            fsync(temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            fsync(root);
        } catch (IOException | RuntimeException e) {
            deleteTree(temp);
            throw e;
        }
        List<Path> all = list();
        for (Path old : all.subList(0, Math.max(0, all.size() - keep))) {
            deleteTree(old);
        }
        return target;
    }

    /** Flushes a file's or a directory's contents (a directory's: its entries) to the disk. */
    private static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> {
                try {
                    Files.delete(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    public Path root() {
        return root;
    }
}
