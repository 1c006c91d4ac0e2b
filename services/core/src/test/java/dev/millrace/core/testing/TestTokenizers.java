package dev.millrace.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tokenizer folders vendored under core's test resources ({@code tokenizers/<name>/}), so tests that
 * need a real tokenizer always run. Other modules get them through core's test jar, where the files
 * sit inside a jar: DJL reads tokenizers from files, so they are then copied out once per JVM.
 */
public final class TestTokenizers {
    private static final List<String> FILES = List.of("tokenizer.json", "tokenizer_config.json");
    private static Path minimind;

    private TestTokenizers() {
    }

    /** MiniMind's tokenizer (Apache-2.0, see {@code tokenizers/minimind/NOTICE.md}). */
    public static synchronized Path minimind() {
        if (minimind == null) {
            minimind = folder("minimind");
        }
        return minimind;
    }

    private static Path folder(String name) {
        String resource = "/tokenizers/" + name + "/tokenizer.json";
        URL url = TestTokenizers.class.getResource(resource);
        if (url == null) {
            throw new IllegalStateException("test resource " + resource + " is missing from the classpath");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI()).getParent();
            }
            Path dir = Files.createTempDirectory("millrace-test-tokenizer-" + name);
            dir.toFile().deleteOnExit();
            for (String file : FILES) {
                try (InputStream in = TestTokenizers.class.getResourceAsStream("/tokenizers/" + name + "/" + file)) {
                    Files.copy(in, dir.resolve(file));
                }
                dir.resolve(file).toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
