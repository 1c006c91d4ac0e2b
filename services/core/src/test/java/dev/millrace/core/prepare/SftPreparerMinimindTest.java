package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The core SFT path against the MiniMind conformance cases (the CLI test covers the same end to end). */
class SftPreparerMinimindTest {

    /** On ChatML the two mask rules must agree with the reference, case by case. */
    @ParameterizedTest(name = "{0} with the {2} rule")
    @CsvSource({"sft-512, 512, PATTERN", "sft-128, 128, PATTERN", "sft-512, 512, SPAN", "sft-128, 128, SPAN"})
    void matchesConformanceCases(String name, int seqLen, MaskRule rule) throws Exception {
        try (TokenizerFolder folder = TokenizerFolder.open(TestTokenizers.minimind())) {
            SftPreparer preparer = new SftPreparer(folder,
                    new SftOptions(Stage.SFT, seqLen, null, rule, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null));
            List<String> expected = Files.readAllLines(SharedData.conformance(name + ".expected.jsonl"));
            List<Prepared> actual = new ArrayList<>();
            try (InputStream in = Files.newInputStream(SharedData.conformance(name + ".input.jsonl"))) {
                LineReader reader = new LineReader(in);
                while (reader.hasNext()) {
                    RawLine line = reader.next();
                    if (!line.isBlank()) {
                        actual.add(preparer.prepare(line));
                    }
                }
            }
            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                JsonNode want = StrictJson.parse(expected.get(i));
                assertThat(actual.get(i)).as(want.get("case").asText()).isInstanceOf(Prepared.Example.class);
                Prepared.Example got = (Prepared.Example) actual.get(i);
                String c = want.get("case").asText();
                assertThat(got.text()).as(c + " text").isEqualTo(want.get("text").asText());
                assertThat(got.row().ids()).as(c + " ids").containsExactly(ints(want.get("input_ids")));
                assertThat(got.row().mask()).as(c + " mask").containsExactly(ints(want.get("loss_mask")));
                assertThat(got.warnings()).as(c + ": the cross-check must not fire on ordinary ChatML").doesNotContain(Warning.MASK_PATTERN_MISMATCH);
            }
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
