package dev.millrace.cli.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock of a persistent run directory ({@link LocalSystem.Options#persistent}): an OS file lock on
 * {@value LocalSystem#LOCK_FILE}, held while the run lives, so that a second run on the same directory is refused
 * instead of starting a second broker on the same log dirs. The OS releases it when the process ends, however it
 * ends, so a killed run leaves nothing to clean up; the file itself stays and names the last holder's pid.
 */
final class RunDirLock {
    private final FileChannel channel;
    private final FileLock lock;

    private RunDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IllegalStateException when another process (or this one) holds the directory, naming its pid */
    static RunDirLock acquire(Path runDir) {
        Path file = runDir.resolve(LocalSystem.LOCK_FILE);
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
                channel.close();
                throw new IllegalStateException("the data directory " + runDir + " is in use by another running millrace up"
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")") + "; stop that one first (Ctrl-C), or give another --data-dir");
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new RunDirLock(channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock the data directory " + runDir, e);
        }
    }

    void release() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process is ending; the OS drops the lock with it
        }
    }
}
