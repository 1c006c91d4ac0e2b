package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** dpo: B pairs per batch, chosen in rows and rejected in rejected_rows at the same index, each side masked as SFT. */
class DpoTopologyTest {
    private static final int B = 2;

    private static String chat(String user, String assistant) {
        return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + assistant + "<|im_end|>\n";
    }

    private static TokenizedSide side(Driver d, String text) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
        for (int token : d.folder.tokenizer().ids(text)) {
            side.addIds(token);
        }
        return side.build();
    }

    private static TokenizedRecord pair(Driver d, String id, String chosen, String rejected) {
        return TokenizedRecord.newBuilder().setRecordId(id).setStage(WireStage.DPO)
                .setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW)
                .addSides(side(d, chosen)).addSides(side(d, rejected)).build();
    }

    @Test
    void pairsShareAnIndexAndAPartialBatchIsCompletedWithFillerPairs() throws Exception {
        try (Driver d = new Driver(List.of(Stage.DPO), B, Map.of())) {
            SftPreparer core = new SftPreparer(d.folder, new SftOptions(Stage.DPO, Driver.T, null));
            String[][] pairs = {
                {chat("2+2?", "4"), chat("2+2?", "five")},
                {chat("Capital of France?", "Paris."), chat("Capital of France?", "Lyon, I believe.")},
                {chat("Say hi", "Hi!"), chat("Say hi", "No.")},
            };
            for (int i = 0; i < pairs.length; i++) {
                d.send(Stage.DPO, "p" + i, pair(d, "p" + i, pairs[i][0], pairs[i][1]).toByteArray());
            }
            d.advance(Driver.LINGER);

            List<Batch> batches = d.batches(Stage.DPO);

            assertThat(batches).extracting(Batch::getBatchId).containsExactly("dpo-p0-00000000", "dpo-p0-00000001");
            for (int i = 0; i < pairs.length; i++) {
                Batch batch = batches.get(i / B);
                Rows.assertIs(batch.getRows(i % B), core.mask(d.folder.tokenizer().ids(pairs[i][0]), null).row());
                Rows.assertIs(batch.getRejectedRows(i % B), core.mask(d.folder.tokenizer().ids(pairs[i][1]), null).row());
                assertThat(batch.getRows(i % B).getRecords(0).getRecordId()).isEqualTo("p" + i);
                assertThat(batch.getRejectedRows(i % B).getRecords(0).getRecordId()).isEqualTo("p" + i);
            }
            Batch last = batches.get(1);
            assertThat(last.getRowsCount()).isEqualTo(B);
            assertThat(last.getRejectedRowsCount()).isEqualTo(B);
            assertThat(last.getRealRows()).isEqualTo(1);
            Rows.assertFiller(last.getRows(1), Driver.T, d.folder.padId());
            Rows.assertFiller(last.getRejectedRows(1), Driver.T, d.folder.padId());
            long nonPad = last.getRows(0).getNonpadTokens() + last.getRejectedRows(0).getNonpadTokens();
            assertThat(last.getNonpadTokens()).isEqualTo(nonPad);
            assertThat(last.getNonpadShare()).isEqualTo((double) nonPad / (2 * Driver.T));
            assertThat(d.deadLetters()).isEmpty();
        }
    }

    @Test
    void underTheSpanRuleAPairWithoutSpansOrWithABrokenSpanIsMalformedAndTheNextPairIsBatched() throws Exception {
        try (Driver d = new Driver(List.of(Stage.DPO), 1, Map.of("millrace.dpo.mask-rule", "span"))) {
            d.send(Stage.DPO, "no-spans", pair(d, "no-spans", chat("hi", "hello"), chat("hi", "bye")).toByteArray());
            TokenizedRecord good = withSpans(pair(d, "good", chat("hi", "hello"), chat("hi", "bye")), 0, 1);
            d.send(Stage.DPO, "broken", withSpans(pair(d, "broken", chat("hi", "hello"), chat("hi", "bye")), 3, 2).toBuilder()
                    .setRecordId("broken").build().toByteArray());
            d.send(Stage.DPO, "good", good.toByteArray());

            List<DeadLetter> letters = d.deadLetters();
            assertThat(letters).extracting(DeadLetter::getRecordId).containsExactly("no-spans", "broken");
            assertThat(letters).extracting(DeadLetter::getReason).containsOnly("MALFORMED_MESSAGE");
            assertThat(letters.get(0).getMessage()).contains("the span mask rule needs the assistant token spans");
            assertThat(letters.get(1).getMessage()).contains("an assistant span [3, 2) ends before it starts");
            assertThat(d.batches(Stage.DPO)).hasSize(1);
        }
    }

    /** Both sides of the pair with one assistant token span [start, end). */
    private static TokenizedRecord withSpans(TokenizedRecord pair, int start, int end) {
        TokenizedRecord.Builder b = pair.toBuilder();
        for (int i = 0; i < 2; i++) {
            b.setSides(i, b.getSides(i).toBuilder().setAssistantTokenSpansKnown(true)
                    .addAssistantTokenSpans(dev.millrace.proto.v1.Span.newBuilder().setStart(start).setEnd(end)));
        }
        return b.build();
    }

    @Test
    void aPairWithAnUntrainableSideIsOneDeadLetterNamingTheSide() throws Exception {
        try (Driver d = new Driver(List.of(Stage.DPO), B, Map.of())) {
            String longPrompt = "word ".repeat(80);
            d.send(Stage.DPO, "cut", pair(d, "cut", chat("hi", "hello"), chat(longPrompt, "hello")).toByteArray());
            d.send(Stage.DPO, "one-side", TokenizedRecord.newBuilder().setRecordId("one-side")
                    .setTokenizerFingerprint(d.folder.fingerprint()).addSides(side(d, chat("a", "b"))).build().toByteArray());
            d.advance(Driver.LINGER);

            List<DeadLetter> letters = d.deadLetters();
            assertThat(letters).hasSize(2);
            assertThat(letters.get(0).getReason()).isEqualTo("NO_TRAINABLE_TOKENS");
            assertThat(letters.get(0).getRecordId()).isEqualTo("cut");
            assertThat(letters.get(0).getMessage()).startsWith("rejected: ");
            assertThat(letters.get(1).getReason()).isEqualTo("MALFORMED_MESSAGE");
            assertThat(d.batches(Stage.DPO)).isEmpty();
        }
    }

    @Test
    void packingIsRefusedForDpoAtStartup() {
        assertThatThrownBy(() -> new Driver(List.of(Stage.DPO), B, Map.of("millrace.dpo.packing", "on")).close())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("millrace.dpo.packing=on");
        assertThatThrownBy(() -> new Driver(List.of(Stage.SFT, Stage.DPO), B, Map.of("millrace.packing", "on")).close())
                .hasMessageContaining("not offered for DPO");
        new Driver(List.of(Stage.SFT, Stage.DPO), B, Map.of("millrace.packing", "on", "millrace.dpo.packing", "off")).close();
    }
}
