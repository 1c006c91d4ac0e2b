package dev.millrace.streams;

import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/** The configured tokenizer folder ({@code millrace.tokenizer}), or the bundled one when none is set. */
public final class TokenizerFolders {
    private TokenizerFolders() {
    }

    public static TokenizerFolder load(Optional<String> path) {
        try {
            return path.filter(p -> !p.isBlank()).isPresent()
                    ? TokenizerFolder.open(Path.of(path.get()))
                    : TokenizerFolder.bundled();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer folder " + path.orElse("(bundled)"), e);
        }
    }
}
