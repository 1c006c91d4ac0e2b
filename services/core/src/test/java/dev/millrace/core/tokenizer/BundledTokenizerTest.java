package dev.millrace.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The project's own tokenizer folder, loaded through DJL like any other. */
class BundledTokenizerTest {
    private static TokenizerFolder folder;

    @BeforeAll
    static void load() throws Exception {
        folder = TokenizerFolder.bundled();
    }

    @AfterAll
    static void close() {
        folder.close();
    }

    @Test
    void specialTokensHaveTheSeedsIdsAndStaySingleTokens() {
        assertThat(folder.padId()).isZero();
        assertThat(folder.bosId()).isEqualTo(1);
        assertThat(folder.eosId()).isEqualTo(2);
        assertThat(folder.isChatMl()).isTrue();
        assertThat(folder.tokenizer().ids("<|im_start|>user\nhi<|im_end|>\n")).startsWith(1).contains(2);
        assertThat(folder.tokenizer().ids("<|im_end|>\n")).containsExactly(2, 201);
    }

    @Test
    void vocabSizeCoversEveryIdTheTokenizerCanProduce() {
        assertThat(folder.vocabSize()).isEqualTo(4096);
        assertThat(java.util.Arrays.stream(folder.tokenizer().ids("any text at all, 中文 too")).max().orElseThrow()).isLessThan(folder.vocabSize());
    }

    @Test
    void mergesAreRealSoWordsAndWhitespaceRunsBecomeSingleTokens() {
        Tokenizer t = folder.tokenizer();
        String text = "The model learns to answer.\n\n    return value";
        int[] ids = t.ids(text);
        assertThat(ids.length).isLessThan(text.length() / 2);
        assertThat(t.ids(" the")).hasSize(1);
        assertThat(t.ids("\n\n")).hasSize(1);
    }

    @Test
    void noTruncationAndCodePointOffsets() {
        Tokenizer t = folder.tokenizer();
        String longText = "word ".repeat(3000);
        assertThat(t.ids(longText).length).isGreaterThan(1000); // DJL's silent 512 cut is off

        String text = "a😀b 中文";
        TokenIds enc = t.encode(text);
        int codePoints = text.codePointCount(0, text.length());
        assertThat(enc.endCodePoint()[enc.length() - 1]).isEqualTo(codePoints);
        assertThat(t.decode(enc.ids())).isEqualTo(text);
    }

    @Test
    void fingerprintIdentifiesTheFiles() throws Exception {
        assertThat(folder.fingerprint()).hasSize(16);
        try (TokenizerFolder again = TokenizerFolder.bundled()) {
            assertThat(again.fingerprint()).isEqualTo(folder.fingerprint());
        }
        try (TokenizerFolder minimind = TokenizerFolder.open(TestTokenizers.minimind())) {
            assertThat(minimind.fingerprint()).isNotEqualTo(folder.fingerprint());
        }
    }

    /** The committed files are exactly what the training script makes from the bundled corpus. */
    @Test
    void committedTokenizerIsReproducibleFromTheCorpus(@TempDir Path out) throws Exception {
        Path moduleDir = SharedData.repoRoot().resolve("services/core");
        Path script = moduleDir.resolve("tokenizer/train_bpe.py");
        Process p = new ProcessBuilder("python3", script.toString(), "--out", out.toString(), "--quiet")
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        Path committed = moduleDir.resolve("src/main/resources/millrace/tokenizer");
        for (String name : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            assertThat(Files.readAllBytes(out.resolve(name)))
                    .as(name + " differs from a fresh run of train_bpe.py; re-run it and commit the output")
                    .isEqualTo(Files.readAllBytes(committed.resolve(name)));
        }
    }
}
