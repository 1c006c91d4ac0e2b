package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.mask.Row;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pretrain rows (docs/semantics.md#pretrain): bos/eos wrapping, room kept for added tokens, padding by position. */
class PretrainPreparerTest {
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
    void autoAddsOnlyTheMissingEnds() throws Exception {
        PretrainPreparer auto = new PretrainPreparer(folder, 32, null, Wrap.AUTO);
        int[] body = folder.tokenizer().ids("plain text");

        Row plain = auto.row("plain text");
        assertThat(plain.ids()[0]).isEqualTo(1);
        assertThat(plain.ids()[body.length + 1]).isEqualTo(2);
        assertThat(plain.realLength()).isEqualTo(body.length + 2);

        Row own = auto.row("<|im_start|>already wrapped<|im_end|>");
        assertThat(own.ids()).startsWith(folder.tokenizer().ids("<|im_start|>already wrapped<|im_end|>"));
        assertThat(own.realLength()).isEqualTo(folder.tokenizer().ids("<|im_start|>already wrapped<|im_end|>").length);
    }

    @Test
    void truncationKeepsRoomForTheAddedTokens() throws Exception {
        Row row = new PretrainPreparer(folder, 8, null, Wrap.ALWAYS).row("one two three four five six seven eight nine ten");
        assertThat(row.ids()).hasSize(8);
        assertThat(row.ids()[0]).isEqualTo(1);
        assertThat(row.ids()[7]).isEqualTo(2);
        assertThat(row.mask()).containsOnly(1);
    }

    @Test
    void splitCutsTheWholeWrappedSequenceIntoConsecutiveWindows() throws Exception {
        String text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
        int[] body = folder.tokenizer().ids(text);
        java.util.List<Row> windows = new PretrainPreparer(folder, 8, null, Wrap.AUTO, true).windows(text);

        int[] joined = windows.stream().flatMapToInt(r -> java.util.Arrays.stream(r.ids(), 0, r.realLength())).toArray();
        assertThat(joined.length).isEqualTo(body.length + 2);
        assertThat(joined[0]).isEqualTo(1);
        assertThat(java.util.Arrays.copyOfRange(joined, 1, body.length + 1)).containsExactly(body);
        assertThat(joined[joined.length - 1]).isEqualTo(2);
        assertThat(windows).allSatisfy(r -> assertThat(r.ids()).hasSize(8));
        assertThat(windows.subList(0, windows.size() - 1)).allSatisfy(r -> assertThat(r.realLength()).isEqualTo(8));
    }

    @Test
    void neverAddsNothingAndAnEmptyTextIsNotTrainable() throws Exception {
        PretrainPreparer never = new PretrainPreparer(folder, 16, null, Wrap.NEVER);
        assertThat(never.row("abc").ids()).startsWith(folder.tokenizer().ids("abc"));
        assertThatThrownBy(() -> never.row("")).hasMessageContaining("nothing to train");
    }

    /** A tokenizer whose pad id equals its eos id still trains the eos: padding is known by position. */
    @Test
    void paddingIsDecidedByPositionNotById(@TempDir Path dir) throws Exception {
        Files.copy(TestTokenizers.minimind().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<|im_start|>\", \"eos_token\": \"<|im_end|>\", \"pad_token\": \"<|im_end|>\"}");
        try (TokenizerFolder padIsEos = TokenizerFolder.open(dir)) {
            Row row = new PretrainPreparer(padIsEos, 16, null, Wrap.AUTO).row("hi");
            int eosAt = row.realLength() - 1;
            assertThat(row.ids()[eosAt]).isEqualTo(2);
            assertThat(row.ids()[eosAt + 1]).isEqualTo(2);
            assertThat(row.mask()[eosAt]).isEqualTo(1);
            assertThat(row.mask()[eosAt + 1]).isZero();
        }
    }
}
