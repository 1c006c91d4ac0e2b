package dev.millrace.training.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which weights a DPO run's frozen reference is: the {@code --init} directory's absolute path and the SHA-256
 * of its {@code config.json} and {@code model.safetensors} (in that order). Recorded in every checkpoint of the
 * run, so a resume scores pairs against the same reference or refuses to start.
 */
public record ReferenceIdentity(String path, String sha256) {

    /** The identity of the checkpoint (or Llama-format weights) directory {@code dir} as it is now. */
    public static ReferenceIdentity of(Path dir) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[1 << 16];
        for (String name : new String[] {Checkpoint.CONFIG, Checkpoint.MODEL}) {
            try (InputStream in = Files.newInputStream(dir.resolve(name))) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
        }
        return new ReferenceIdentity(dir.toAbsolutePath().normalize().toString(), HexFormat.of().formatHex(digest.digest()));
    }
}
