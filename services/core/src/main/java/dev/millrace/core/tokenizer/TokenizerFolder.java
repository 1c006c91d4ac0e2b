package dev.millrace.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.template.TokenizerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * A HuggingFace tokenizer folder ({@code tokenizer.json} + {@code tokenizer_config.json}): the
 * tokenizer, its config, the ids of its special tokens, and a fingerprint of the files so that a
 * batch never mixes tokenizers or template versions.
 */
public final class TokenizerFolder implements AutoCloseable {
    /** The folder bundled with Millrace, in {@code services/core} resources. */
    public static final String BUNDLED_RESOURCE = "/millrace/tokenizer/";
    private static final String[] BUNDLED_FILES = {"tokenizer.json", "tokenizer_config.json"};
    private static Path bundledCopy;

    private final Path path;
    private final TokenizerConfig config;
    private final Tokenizer tokenizer;
    private final Map<String, Integer> addedTokens;
    private final String fingerprint;
    private final int vocabSize;

    private TokenizerFolder(Path path) throws IOException {
        this.path = path;
        Path json = path.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IOException("no tokenizer.json in " + path);
        }
        this.config = TokenizerConfig.load(path);
        JsonNode tokenizerJson = StrictJson.MAPPER.readTree(json.toFile());
        this.addedTokens = addedTokens(tokenizerJson);
        this.vocabSize = vocabSize(tokenizerJson, addedTokens);
        this.fingerprint = fingerprint(path);
        this.tokenizer = new Tokenizer(json);
    }

    public static TokenizerFolder open(Path path) throws IOException {
        return new TokenizerFolder(path);
    }

    /** The project's own small tokenizer, the default everywhere. */
    public static TokenizerFolder bundled() throws IOException {
        return new TokenizerFolder(bundledPath());
    }

    /** DJL loads tokenizers from files, so the bundled resources are copied out once per JVM. */
    public static synchronized Path bundledPath() {
        if (bundledCopy == null) {
            try {
                Path dir = Files.createTempDirectory("millrace-tokenizer");
                for (String name : BUNDLED_FILES) {
                    try (InputStream in = TokenizerFolder.class.getResourceAsStream(BUNDLED_RESOURCE + name)) {
                        if (in == null) {
                            throw new IOException("bundled tokenizer resource missing: " + name);
                        }
                        Files.copy(in, dir.resolve(name));
                    }
                    dir.resolve(name).toFile().deleteOnExit();
                }
                dir.toFile().deleteOnExit();
                bundledCopy = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return bundledCopy;
    }

    private static Map<String, Integer> addedTokens(JsonNode tokenizerJson) {
        Map<String, Integer> out = new HashMap<>();
        JsonNode added = tokenizerJson.get("added_tokens");
        if (added != null) {
            for (JsonNode t : added) {
                out.put(t.path("content").asText(), t.path("id").asInt());
            }
        }
        return out;
    }

    /** One more than the largest id of the model's vocabulary and the added tokens (the rows a model's embedding needs). */
    private static int vocabSize(JsonNode tokenizerJson, Map<String, Integer> added) {
        JsonNode vocab = tokenizerJson.path("model").path("vocab");
        int max = -1;
        if (vocab.isArray()) {
            max = vocab.size() - 1; // Unigram: [token, score] pairs, the id is the index
        } else {
            for (JsonNode id : vocab) {
                max = Math.max(max, id.asInt()); // BPE, WordPiece: token -> id
            }
        }
        for (int id : added.values()) {
            max = Math.max(max, id);
        }
        return max + 1;
    }

    private static String fingerprint(Path folder) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String name : new String[] {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "chat_template.json"}) {
                Path f = folder.resolve(name);
                if (Files.exists(f)) {
                    sha.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    sha.update((byte) 0);
                    sha.update(Files.readAllBytes(f));
                }
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path path() {
        return path;
    }

    public TokenizerConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public String fingerprint() {
        return fingerprint;
    }

    /** The number of token ids this tokenizer can produce, the vocabulary size a model trained on it has. */
    public int vocabSize() {
        return vocabSize;
    }

    /** Id of an added (special) token, or -1. */
    public int addedTokenId(String content) {
        return addedTokens.getOrDefault(content, -1);
    }

    /** Every added token's text (what counts as special-token text inside content). */
    public java.util.Set<String> addedTokenTexts() {
        return addedTokens.keySet();
    }

    public int bosId() {
        return specialId("bos_token");
    }

    public int eosId() {
        return specialId("eos_token");
    }

    /** The pad id; a tokenizer without a pad token pads with its eos id (docs/semantics.md#truncation-and-padding). */
    public int padId() {
        int pad = specialId("pad_token");
        return pad >= 0 ? pad : eosId();
    }

    private int specialId(String name) {
        String text = config.specialTokens().get(name);
        return text == null ? -1 : addedTokenId(text);
    }

    /** True when the vocabulary has {@code <|im_start|>} and {@code <|im_end|>} (ChatML). */
    public boolean isChatMl() {
        return addedTokens.containsKey("<|im_start|>") && addedTokens.containsKey("<|im_end|>");
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
