package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.testing.PythonReference;
import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Millrace's rendering equals Python Jinja2's under HF's settings ({@code hf_render.py}) for every
 * conformance SFT input and every line of the bundled sample data, byte for byte.
 */
class HfRenderParityTest {

    @Test
    void conformanceInputsRenderLikePython() throws Exception {
        Path minimind = TestTokenizers.minimind();
        for (String file : List.of("sft-512.input.jsonl", "sft-128.input.jsonl")) {
            assertSameAsPython(minimind, Files.readAllBytes(SharedData.conformance(file)), file, 5);
        }
    }

    @Test
    void bundledSampleDataRendersLikePython() throws Exception {
        byte[] samples;
        try (InputStream in = HfRenderParityTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            samples = in.readAllBytes();
        }
        assertSameAsPython(TokenizerFolder.bundledPath(), samples, "samples/sft.jsonl", 200);
    }

    private static void assertSameAsPython(Path tokenizerFolder, byte[] jsonl, String what, int atLeast) throws Exception {
        List<String> python = PythonReference.renderMiniMindJsonl(tokenizerFolder, jsonl);
        int compared = 0;
        try (TokenizerFolder folder = TokenizerFolder.open(tokenizerFolder)) {
            SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, 512, null));
            LineReader lines = new LineReader(new ByteArrayInputStream(jsonl));
            int index = 0;
            while (lines.hasNext()) {
                RawLine line = lines.next();
                if (line.isBlank()) {
                    continue;
                }
                String expected = python.get(index++);
                Conversation conversation;
                try {
                    conversation = preparer.read(line.bytes());
                } catch (RecordRejected rejected) {
                    continue; // bad lines are rejected before rendering; nothing to compare
                }
                assertThat(expected).as(what + " line " + line.number() + ": Python failed to render a record Millrace accepts").isNotNull();
                assertThat(preparer.render(conversation)).as(what + " line " + line.number()).isEqualTo(expected);
                compared++;
            }
            assertThat(index).as("one Python result per non-blank line").isEqualTo(python.size());
        }
        assertThat(compared).as(what + " records compared").isGreaterThanOrEqualTo(atLeast);
    }
}
