package dev.millrace.training.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Which weights a DPO run's frozen reference is: the {@code --init} directory's absolute path and its content hash
 * ({@link CheckpointHash}: the weights, the config and the tokenizer files). Recorded in every checkpoint of the
 * run, so a resume scores pairs against the same reference or refuses to start.
 */
public record ReferenceIdentity(String path, String sha256) {

    /** The identity of the checkpoint (or Llama-format weights) directory {@code dir} as it is now. */
    public static ReferenceIdentity of(Path dir) throws IOException {
        return new ReferenceIdentity(dir.toAbsolutePath().normalize().toString(), CheckpointHash.of(dir));
    }
}
