package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code prepare --packing on} (docs/semantics.md#packing): fill shares and that packing only rearranges whole rows. */
class PreparePackingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void sft512PacksTheSameTokensIntoFarFewerRows() throws Exception {
        Path tokenizer = TestTokenizers.minimind();
        Path input = SharedData.conformance("sft-512.input.jsonl");
        int t = 512;
        String[] base = {"prepare", "--stage", "sft", "--tokenizer", tokenizer.toString(), "--seq-len", "512", "--input", input.toString()};

        CliRun off = CliRun.of(with(base, "--packing", "off", "--stats"));
        CliRun on = CliRun.of(with(base, "--packing", "on", "--stats"));
        assertThat(off.exitCode()).as(off.err()).isZero();
        assertThat(on.exitCode()).as(on.err()).isZero();

        JsonNode offStats = last(off);
        JsonNode onStats = last(on);
        System.out.printf("sft-512: off rows=%d nonpad_share=%.4f trained_share=%.4f; on rows=%d nonpad_share=%.4f trained_share=%.4f%n",
                offStats.get("rows").asInt(), offStats.get("nonpad_share").asDouble(), offStats.get("trained_share").asDouble(),
                onStats.get("rows").asInt(), onStats.get("nonpad_share").asDouble(), onStats.get("trained_share").asDouble());
        assertThat(offStats.get("nonpad_share").asDouble()).isCloseTo(0.29, org.assertj.core.data.Offset.offset(0.01));
        assertThat(onStats.get("nonpad_share").asDouble()).isGreaterThanOrEqualTo(0.90);
        assertThat(onStats.get("records").asInt()).isEqualTo(offStats.get("records").asInt());
        assertThat(onStats.get("rejected").asInt()).isEqualTo(offStats.get("rejected").asInt());
        // the same real tokens in fewer rows
        assertThat(onStats.get("nonpad_share").asDouble() * onStats.get("rows").asInt())
                .isCloseTo(offStats.get("nonpad_share").asDouble() * offStats.get("rows").asInt(), org.assertj.core.data.Offset.offset(1e-6));

        int padId;
        try (TokenizerFolder folder = TokenizerFolder.open(tokenizer)) {
            padId = folder.padId();
        }
        assertPackedRowsHoldExactlyThePerRecordRows(off, on, t, padId);
    }

    @Test
    void thousandsOfSampleConversationsPackWithinOnePercentOfTheLowerBound() throws Exception {
        Path input = dir.resolve("prefixes.jsonl");
        int records = writePrefixCorpus(input);
        assertThat(records).isGreaterThanOrEqualTo(2000);
        String[] base = {"prepare", "--stage", "sft", "--seq-len", "512", "--input", input.toString(), "--stats"};

        CliRun off = CliRun.of(with(base, "--packing", "off"));
        CliRun on = CliRun.of(with(base, "--packing", "on"));
        assertThat(off.exitCode()).as(off.err()).isZero();
        assertThat(on.exitCode()).as(on.err()).isZero();
        JsonNode offStats = last(off);
        JsonNode onStats = last(on);
        System.out.printf("sample prefixes (%d lines): off records=%d rows=%d nonpad_share=%.4f; on rows=%d nonpad_share=%.4f trained_share=%.4f%n",
                records, offStats.get("records").asInt(), offStats.get("rows").asInt(), offStats.get("nonpad_share").asDouble(),
                onStats.get("rows").asInt(), onStats.get("nonpad_share").asDouble(), onStats.get("trained_share").asDouble());
        assertThat(offStats.get("records").asInt()).isGreaterThanOrEqualTo(2000);
        int padId;
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            padId = folder.padId();
        }
        long[] lb = lowerBound(off, 512, padId);
        double best = (double) lb[1] / (lb[0] * 512.0);
        System.out.printf("lower bound rows=%d (real tokens %d, examples over T/2 %d): best possible nonpad_share=%.4f%n",
                lb[0], lb[1], lb[2], best);
        // The brief asked for >= 0.97 here. On this corpus no packer can reach it: most examples are
        // longer than T/2, so each needs a row of its own, which caps nonpad_share at `best` (~0.951).
        // So the test holds the packer to the bin-packing lower bound (within 1%) and records the share.
        assertThat(onStats.get("rows").asLong()).isLessThanOrEqualTo((long) Math.ceil(lb[0] * 1.01));
        assertThat(onStats.get("nonpad_share").asDouble()).isGreaterThanOrEqualTo(0.94).isGreaterThanOrEqualTo(best * 0.99);
        assertPackedRowsHoldExactlyThePerRecordRows(off, on, 512, padId);
    }

    /**
     * Each good record's real ids appear exactly once, in order, as one segment with positions 0..n-1,
     * its own mask (the first token of a later segment masked), and padding only at a row's tail.
     */
    private static void assertPackedRowsHoldExactlyThePerRecordRows(CliRun off, CliRun on, int t, int padId) throws Exception {
        Map<Integer, JsonNode> perRecord = new HashMap<>();
        List<String> offLines = off.outLines();
        for (String l : offLines.subList(0, offLines.size() - 1)) {
            JsonNode n = JSON.readTree(l);
            if (!n.has("error")) {
                perRecord.put(n.get("line").asInt(), n);
            }
        }
        Map<Integer, Integer> seen = new HashMap<>();
        int expectedRow = 0;
        List<String> onLines = on.outLines();
        for (String l : onLines.subList(0, onLines.size() - 1)) {
            JsonNode row = JSON.readTree(l);
            if (!row.has("row")) {
                assertThat(row.has("error")).isTrue();
                continue;
            }
            assertThat(row.get("row").asInt()).isEqualTo(expectedRow++);
            JsonNode ids = row.get("input_ids");
            JsonNode mask = row.get("loss_mask");
            JsonNode seg = row.get("segment_ids");
            JsonNode pos = row.get("position_ids");
            assertThat(ids).hasSize(t);
            assertThat(mask).hasSize(t);
            assertThat(seg).hasSize(t);
            assertThat(pos).hasSize(t);
            int at = 0;
            int s = 0;
            for (JsonNode lineNode : row.get("lines")) {
                s++;
                int line = lineNode.asInt();
                seen.merge(line, 1, Integer::sum);
                JsonNode record = perRecord.get(line);
                assertThat(record).as("line " + line + " is a good record").isNotNull();
                int start = at;
                while (at < t && seg.get(at).asInt() == s) {
                    int k = at - start;
                    assertThat(pos.get(at).asInt()).isEqualTo(k);
                    assertThat(ids.get(at).asInt()).as("line " + line + " token " + k).isEqualTo(record.get("input_ids").get(k).asInt());
                    int wantMask = k == 0 && s > 1 ? 0 : record.get("loss_mask").get(k).asInt();
                    assertThat(mask.get(at).asInt()).isEqualTo(wantMask);
                    at++;
                }
                int n = at - start;
                assertThat(n).isPositive();
                for (int k = n; k < t; k++) { // the rest of the per-record row is padding
                    assertThat(record.get("input_ids").get(k).asInt()).as("line " + line + " pad at " + k).isEqualTo(padId);
                    assertThat(record.get("loss_mask").get(k).asInt()).isZero();
                }
            }
            for (int k = at; k < t; k++) {
                assertThat(seg.get(k).asInt()).isZero();
                assertThat(pos.get(k).asInt()).isZero();
                assertThat(mask.get(k).asInt()).isZero();
                assertThat(ids.get(k).asInt()).isEqualTo(padId);
            }
        }
        assertThat(seen.keySet()).isEqualTo(perRecord.keySet());
        assertThat(seen.values()).containsOnly(1);
    }

    /**
     * Every prefix of every good conversation of the bundled sample that ends in an assistant turn,
     * each with no system message and with system messages of several lengths: thousands of records.
     */
    private static int writePrefixCorpus(Path out) throws Exception {
        List<JsonNode> conversations = new ArrayList<>();
        try (InputStream in = PreparePackingTest.class.getResourceAsStream(DemoCommand.SAMPLE_SFT);
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String l;
            while ((l = reader.readLine()) != null) {
                JsonNode n;
                try {
                    n = JSON.readTree(l);
                } catch (Exception e) {
                    continue;
                }
                if (n != null && n.isObject() && n.get("conversations") instanceof ArrayNode turns && turns.size() > 0) {
                    conversations.add(turns);
                }
            }
        }
        String sentence = "You are a careful assistant; answer briefly and exactly. ";
        List<String> lines = new ArrayList<>();
        for (int variant = 0; variant < 10; variant++) {
            for (JsonNode turns : conversations) {
                boolean hasSystem = "system".equals(turns.get(0).path("role").asText());
                if (hasSystem && variant > 0) {
                    continue;
                }
                for (int end = 0; end < turns.size(); end++) {
                    if (!"assistant".equals(turns.get(end).path("role").asText())) {
                        continue;
                    }
                    ArrayNode prefix = JSON.createArrayNode();
                    if (variant > 0) {
                        prefix.addObject().put("role", "system").put("content", sentence.repeat(variant).trim());
                    }
                    for (int k = 0; k <= end; k++) {
                        prefix.add(turns.get(k));
                    }
                    ObjectNode record = JSON.createObjectNode();
                    record.set("conversations", prefix);
                    lines.add(JSON.writeValueAsString(record));
                }
            }
        }
        Files.write(out, lines, StandardCharsets.UTF_8);
        return lines.size();
    }

    /** {max(ceil(real tokens / T), examples longer than T/2), real tokens, examples longer than T/2}, real lengths read up to the trailing pads. */
    static long[] lowerBound(CliRun off, int t, int padId) throws Exception {
        long tokens = 0;
        long overHalf = 0;
        List<String> lines = off.outLines();
        for (String l : lines.subList(0, lines.size() - 1)) {
            JsonNode n = JSON.readTree(l);
            if (n.has("error")) {
                continue;
            }
            int len = t;
            JsonNode ids = n.get("input_ids");
            while (len > 0 && ids.get(len - 1).asInt() == padId) {
                len--;
            }
            tokens += len;
            if (len * 2 > t) {
                overHalf++;
            }
        }
        return new long[] {Math.max((tokens + t - 1) / t, overHalf), tokens, overHalf};
    }

    private static JsonNode last(CliRun run) throws Exception {
        List<String> lines = run.outLines();
        return JSON.readTree(lines.get(lines.size() - 1)).get("stats");
    }

    private static String[] with(String[] base, String... extra) {
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return args;
    }
}
