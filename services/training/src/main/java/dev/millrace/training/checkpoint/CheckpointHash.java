package dev.millrace.training.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A checkpoint's content hash, the identity of the model that answers with it (the teacher id): SHA-256 over the
 * files that decide an answer, each as its name, a 0 byte, its length and its bytes, in this order: the weights, the config,
 * and the tokenizer folder's fingerprinted files that are present. The optimizer's moments and
 * {@code trainer_state.json} are left out, so where and when a checkpoint was written does not change it; its
 * directory name does not either.
 */
public final class CheckpointHash {
    static final List<String> FILES = List.of(Checkpoint.MODEL, Checkpoint.CONFIG,
            "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "chat_template.json");

    private CheckpointHash() {
    }

    /** 64 hex digits. */
    public static String of(Path checkpoint) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String name : FILES) {
            Path f = checkpoint.resolve(name);
            if (Files.isRegularFile(f)) {
                sha.update(name.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(java.nio.ByteBuffer.allocate(Long.BYTES).putLong(Files.size(f)).array()); // no two file lists hash alike
                try (InputStream in = Files.newInputStream(f)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha.update(buffer, 0, n);
                    }
                }
            } else if (name.equals(Checkpoint.MODEL) || name.equals(Checkpoint.CONFIG)) {
                throw new IOException(checkpoint + " has no " + name);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
