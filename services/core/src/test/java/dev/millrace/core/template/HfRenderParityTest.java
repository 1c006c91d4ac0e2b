package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.testing.GoldenRenders;
import dev.millrace.core.testing.PythonReference;
import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Millrace's rendering of whole input lines (read as the SFT stage reads them) equals the Python
 * reference's ({@code src/test/python/render_reference.py}, which turns a line into messages and tools
 * as MiniMind's SFT dataset does), byte for byte: every line of the bundled sample data Millrace
 * accepts (answers committed as {@code golden/hf-render/samples-sft.jsonl}) and, as an extra external
 * check, the conformance SFT inputs with MiniMind's tokenizer.
 */
class HfRenderParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The accepted lines of an input and what Millrace renders for them. */
    private record Accepted(List<Long> lineNumbers, List<String> lines, List<String> rendered) {
    }

    @Test
    void bundledSampleDataRendersLikePython() throws Exception {
        Accepted accepted = accept(TokenizerFolder.bundledPath(), samples());
        assertSame(accepted, sampleGolden().expected(), "samples/sft.jsonl", 200);
    }

    @Test
    void goldenFileIsWhatThePythonReferenceRenders() throws Exception {
        sampleGolden().assertPythonStillAgrees();
    }

    /** External check: ../shared/conformance's SFT inputs, rendered live by the Python reference. */
    @Test
    void conformanceInputsRenderLikePython() throws Exception {
        Path minimind = TestTokenizers.minimind();
        for (String file : List.of("sft-512.input.jsonl", "sft-128.input.jsonl")) {
            Accepted accepted = accept(minimind, Files.readAllBytes(SharedData.conformance(file)));
            List<PythonReference.Result> python = PythonReference.render(minimind, requests(accepted));
            assertSame(accepted, python, file, 5);
        }
    }

    /** The bundled template is MiniMind's ChatML template (docs/decisions.md #4), so one golden file covers both. */
    private static GoldenRenders sampleGolden() throws Exception {
        Path folder = TokenizerFolder.bundledPath();
        return GoldenRenders.of("hf-render/samples-sft", folder, requests(accept(folder, samples())));
    }

    private static byte[] samples() throws Exception {
        try (InputStream in = HfRenderParityTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            return in.readAllBytes();
        }
    }

    private static List<ObjectNode> requests(Accepted accepted) {
        List<ObjectNode> requests = new ArrayList<>();
        for (String line : accepted.lines()) {
            requests.add(JSON.createObjectNode().put("record", line));
        }
        return requests;
    }

    /** Every line Millrace accepts (bad lines are rejected before rendering: nothing to compare) and its rendering. */
    private static Accepted accept(Path tokenizerFolder, byte[] jsonl) throws Exception {
        List<Long> numbers = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        List<String> rendered = new ArrayList<>();
        try (TokenizerFolder folder = TokenizerFolder.open(tokenizerFolder)) {
            SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, 512, null));
            LineReader reader = new LineReader(new ByteArrayInputStream(jsonl));
            while (reader.hasNext()) {
                RawLine line = reader.next();
                if (line.isBlank()) {
                    continue;
                }
                Conversation conversation;
                try {
                    conversation = preparer.read(line.bytes());
                } catch (RecordRejected rejected) {
                    continue;
                }
                numbers.add(line.number());
                lines.add(new String(line.bytes(), StandardCharsets.UTF_8));
                rendered.add(preparer.render(conversation));
            }
        }
        return new Accepted(numbers, lines, rendered);
    }

    private static void assertSame(Accepted accepted, List<PythonReference.Result> python, String what, int atLeast) {
        assertThat(python).hasSameSizeAs(accepted.lines());
        for (int i = 0; i < python.size(); i++) {
            String where = what + " line " + accepted.lineNumbers().get(i);
            assertThat(python.get(i).error()).as(where + ": Python failed to render a record Millrace accepts").isNull();
            assertThat(accepted.rendered().get(i)).as(where).isEqualTo(python.get(i).text());
        }
        assertThat(python.size()).as(what + " records compared").isGreaterThanOrEqualTo(atLeast);
    }
}
