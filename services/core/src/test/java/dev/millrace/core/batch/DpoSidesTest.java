package dev.millrace.core.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DpoSidesTest {
    private static final int T = 32;
    private static TokenizerFolder folder;
    private static SftPreparer preparer;

    @BeforeAll
    static void load() throws Exception {
        folder = TokenizerFolder.bundled();
        preparer = new SftPreparer(folder, new SftOptions(Stage.DPO, T, null));
    }

    @AfterAll
    static void close() {
        folder.close();
    }

    private static int[] chat(String user, String assistant) {
        return folder.tokenizer().ids("<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + assistant + "<|im_end|>\n");
    }

    @Test
    void eachSideIsMaskedByTheSftStep() throws Exception {
        int[] chosen = chat("2+2?", "4");
        int[] rejected = chat("2+2?", "five, I think");

        DpoSides.Pair pair = new DpoSides(preparer).mask(chosen, null, rejected, null);

        assertThat(pair.chosen().row().ids()).containsExactly(preparer.mask(chosen, null).row().ids());
        assertThat(pair.chosen().row().mask()).containsExactly(preparer.mask(chosen, null).row().mask());
        assertThat(pair.rejected().row().ids()).containsExactly(preparer.mask(rejected, null).row().ids());
        assertThat(pair.rejected().row().mask()).containsExactly(preparer.mask(rejected, null).row().mask());
    }

    @Test
    void aSideWithoutATrainableTokenRejectsThePairNamingTheSide() {
        int[] chosen = chat("2+2?", "4");
        int[] cutRejected = chat("word ".repeat(40), "four");

        assertThatThrownBy(() -> new DpoSides(preparer).mask(chosen, null, cutRejected, null))
                .isInstanceOfSatisfying(RecordRejected.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
                    assertThat(e.getMessage()).startsWith("rejected: ");
                });
        assertThatThrownBy(() -> new DpoSides(preparer).mask(cutRejected, null, chosen, null))
                .hasMessageStartingWith("chosen: ");
    }

    @Test
    void needsDpoSettings() {
        assertThatThrownBy(() -> new DpoSides(new SftPreparer(folder, new SftOptions(Stage.SFT, T, null))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
