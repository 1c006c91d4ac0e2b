package dev.millrace.core.pack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.json.LineReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.mask.Row;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packing goal on a corpus of thousands of records: non-pad share at least 0.97 with
 * packing on (T = 512, default buffer, bundled tokenizer, SFT masks). The corpus is built here,
 * deterministically, from the bundled SFT sample: every user/assistant exchange as a record of its
 * own, and its short-answer form (the answer's first paragraph) without and under several system
 * prompts. That is what much real SFT data looks like (single exchanges, most far shorter than T),
 * unlike the multi-turn prefixes of {@code PreparePackingTest} in the cli module, where most
 * examples are longer than T/2 and no packer can pass 0.951 there.
 */
class PackingCorpusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int T = 512;
    private static final List<String> SYSTEM_PROMPTS = List.of(
            "You are a helpful assistant.",
            "Answer briefly.",
            "你是一个乐于助人的助手。",
            "请用简洁、准确的中文或英文回答用户的问题。",
            "You are a patient tutor. Explain each step so that a beginner can follow it, and say so when something is uncertain.");

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
    void thousandsOfShortExchangesPackToANonPadShareOfAtLeast097() throws Exception {
        List<byte[]> corpus = exchangeCorpus();
        assertThat(corpus.size()).isGreaterThanOrEqualTo(2000);

        SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, T, null));
        List<Row> rows = new ArrayList<>();
        long rejected = 0;
        for (int i = 0; i < corpus.size(); i++) {
            Prepared p = preparer.prepare(new RawLine(i + 1, corpus.get(i)));
            if (p instanceof Prepared.Example e) {
                rows.add(e.row());
            } else {
                rejected++;
            }
        }
        long shortOnes = rows.stream().filter(r -> r.realLength() * 2 <= T).count();
        assertThat(shortOnes).as("mostly short records").isGreaterThan(rows.size() / 2);

        Fill off = new Fill();
        rows.forEach(r -> off.add(r.realLength(), r.trainedTokens()));

        Packer packer = new Packer(T, folder.padId(), Packer.DEFAULT_BUFFER);
        List<PackedRow> packed = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            packed.addAll(packer.add(Arrays.copyOf(r.ids(), r.realLength()), Arrays.copyOf(r.mask(), r.realLength()), i));
        }
        packed.addAll(packer.finish());
        Fill on = new Fill();
        packed.forEach(r -> on.add(r.realLength(), r.asRow().trainedTokens()));

        System.out.printf("exchange corpus: %d records (%d rejected, %d of %d at most T/2 long), T=%d, buffer %d%n"
                        + "  packing off: rows=%d nonpad_share=%.4f trained_share=%.4f%n"
                        + "  packing on:  rows=%d nonpad_share=%.4f trained_share=%.4f (%.2fx fewer rows)%n",
                corpus.size(), rejected, shortOnes, rows.size(), T, Packer.DEFAULT_BUFFER,
                off.rows, off.nonPadShare(), off.trainedShare(), on.rows, on.nonPadShare(), on.trainedShare(), (double) off.rows / on.rows);

        assertThat(on.nonPadShare()).isGreaterThanOrEqualTo(0.97);
        assertThat(off.nonPadShare()).isLessThan(0.5);
        // Packing moves whole examples: the same real tokens, and only each later segment's first
        // token loses its mask (it would be a target across a boundary).
        assertThat(on.nonPad).isEqualTo(off.nonPad);
        assertThat(packed.stream().mapToLong(r -> r.lines().size()).sum()).isEqualTo(rows.size());
        assertThat(on.trained).isLessThanOrEqualTo(off.trained).isGreaterThanOrEqualTo(off.trained - (rows.size() - on.rows));
    }

    private static byte[] record(JsonNode system, JsonNode user, JsonNode assistant) throws Exception {
        ArrayNode messages = JSON.createArrayNode();
        if (system != null) {
            messages.add(system);
        }
        messages.add(user).add(assistant);
        ObjectNode record = JSON.createObjectNode();
        record.set("conversations", messages);
        return JSON.writeValueAsBytes(record);
    }

    private static JsonNode message(String role, String content) {
        return JSON.createObjectNode().put("role", role).put("content", content);
    }

    /** Real tokens and trained tokens over rows of T (nonpad_share and trained_share, docs/semantics.md#fill). */
    private static final class Fill {
        long rows;
        long nonPad;
        long trained;

        void add(int realLength, int trainedTokens) {
            rows++;
            nonPad += realLength;
            trained += trainedTokens;
        }

        double nonPadShare() {
            return (double) nonPad / (rows * (double) T);
        }

        double trainedShare() {
            return (double) trained / (rows * (double) T);
        }
    }

    /**
     * For each user message of a sample conversation and the assistant answer after it: the
     * exchange (with the conversation's own system message, if any), then, when the answer has
     * several paragraphs, the question with only the first paragraph as answer, without a system
     * message and under each of {@link #SYSTEM_PROMPTS}. Lines that are not JSON are skipped (the
     * few other bad sample lines are rejected by the preparer); the order is the sample's.
     */
    static List<byte[]> exchangeCorpus() throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (InputStream in = PackingCorpusTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            assertThat(in).as("bundled SFT sample").isNotNull();
            LineReader lines = new LineReader(new ByteArrayInputStream(in.readAllBytes()));
            List<ArrayNode> exchanges = new ArrayList<>();
            List<JsonNode> ownSystem = new ArrayList<>();
            while (lines.hasNext()) {
                RawLine line = lines.next();
                JsonNode record;
                try {
                    record = JSON.readTree(new String(line.bytes(), StandardCharsets.UTF_8));
                } catch (Exception e) {
                    continue;
                }
                if (record == null || !(record.get("conversations") instanceof ArrayNode turns)) {
                    continue;
                }
                JsonNode system = "system".equals(turns.path(0).path("role").asText()) ? turns.get(0) : null;
                for (int k = 0; k + 1 < turns.size(); k++) {
                    if ("user".equals(turns.get(k).path("role").asText()) && "assistant".equals(turns.get(k + 1).path("role").asText())) {
                        ArrayNode exchange = JSON.createArrayNode();
                        exchange.add(turns.get(k)).add(turns.get(k + 1));
                        exchanges.add(exchange);
                        ownSystem.add(system);
                    }
                }
            }
            for (int i = 0; i < exchanges.size(); i++) {
                ArrayNode exchange = exchanges.get(i);
                out.add(record(ownSystem.get(i), exchange.get(0), exchange.get(1)));
                String answer = exchange.get(1).path("content").asText();
                int cut = answer.indexOf("\n\n");
                if (cut <= 0) {
                    continue;
                }
                JsonNode brief = message("assistant", answer.substring(0, cut));
                out.add(record(null, exchange.get(0), brief));
                for (String system : SYSTEM_PROMPTS) {
                    out.add(record(message("system", system), exchange.get(0), brief));
                }
            }
        }
        return out;
    }
}
