package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prepare contract of docs/cli.md that does not need reference data: exit codes, line numbers, stats, explain. */
class PrepareCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GOOD = "{\"conversations\":[{\"role\":\"user\",\"content\":\"Hi there\"},{\"role\":\"assistant\",\"content\":\"Hello! How can I help?\"}]}";
    private static final String GOOD_OPENAI = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi there\"},{\"role\":\"assistant\",\"content\":\"Hello! How can I help?\"}]}";

    @TempDir
    Path dir;

    private Path file(String content) throws Exception {
        Path f = dir.resolve("in.jsonl");
        Files.write(f, content.getBytes(StandardCharsets.UTF_8));
        return f;
    }

    private CliRun prepare(Path input, String... extra) {
        String[] base = {"prepare", "--stage", "sft", "--seq-len", "64", "--input", input.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(args);
    }

    @Test
    void blankLinesAreSkippedAndLineNumbersCountEveryLineWithCrlfEnds() throws Exception {
        CliRun run = prepare(file("\n" + GOOD + "\r\n   \n{\"conversations\": [\n" + GOOD));

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines).hasSize(3);
        JsonNode first = JSON.readTree(lines.get(0));
        assertThat(first.get("line").asInt()).isEqualTo(2);
        assertThat(first.get("input_ids")).hasSize(64);
        assertThat(first.get("loss_mask")).hasSize(64);
        assertThat(first.get("warnings")).isEmpty();
        assertThat(first.get("text").asText()).endsWith("Hello! How can I help?<|im_end|>\n");
        JsonNode bad = JSON.readTree(lines.get(1));
        assertThat(bad.get("line").asInt()).isEqualTo(4);
        assertThat(bad.at("/error/reason").asText()).isEqualTo("INVALID_JSON");
        assertThat(JSON.readTree(lines.get(2)).get("line").asInt()).isEqualTo(5);
    }

    @Test
    void linesPastTheJsonParsersLimitsOrRepeatingAKeyAreErrorLinesAndTheLinesAfterThemArePrinted() throws Exception {
        String tooDeep = "{\"conversations\":" + "[".repeat(1500) + "]".repeat(1500) + "}";
        String longNumber = "{\"n\":" + "1".repeat(1500) + "}";
        String longKey = "{\"" + "k".repeat(60_000) + "\":1}";
        String repeatedKey = "{\"conversations\":[],\"conversations\":[{\"content\":\"q\"},{\"content\":\"a\"}]}";
        CliRun run = prepare(file(String.join("\n", GOOD, tooDeep, GOOD, longNumber, longKey, repeatedKey, GOOD) + "\n"));

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines).hasSize(7);
        for (int i : new int[] {0, 2, 6}) {
            JsonNode good = JSON.readTree(lines.get(i));
            assertThat(good.get("line").asInt()).isEqualTo(i + 1);
            assertThat(good.get("input_ids")).hasSize(64);
        }
        List<String> named = List.of("nesting depth", "Number value length", "Name length", "duplicate key \"conversations\"");
        int[] bad = {1, 3, 4, 5};
        for (int k = 0; k < bad.length; k++) {
            JsonNode error = JSON.readTree(lines.get(bad[k]));
            assertThat(error.get("line").asInt()).isEqualTo(bad[k] + 1);
            assertThat(error.at("/error/reason").asText()).isEqualTo("INVALID_JSON");
            assertThat(error.at("/error/message").asText()).contains(named.get(k));
        }
    }

    @Test
    void sameConversationAsMiniMindOrOpenAiHasTheSameIdAndRow() throws Exception {
        CliRun run = prepare(file(GOOD + "\n" + GOOD_OPENAI + "\n"));

        List<String> lines = run.outLines();
        JsonNode a = JSON.readTree(lines.get(0));
        JsonNode b = JSON.readTree(lines.get(1));
        assertThat(a.get("id").asText()).hasSize(64).isEqualTo(b.get("id").asText());
        assertThat(a.get("input_ids")).isEqualTo(b.get("input_ids"));
    }

    @Test
    void statsLineComesLastWithTheDocumentedShares() throws Exception {
        CliRun run = prepare(file(GOOD + "\nnot json\n" + GOOD + "\n"), "--stats");

        List<String> lines = run.outLines();
        assertThat(lines).hasSize(4);
        JsonNode stats = JSON.readTree(lines.get(3)).get("stats");
        assertThat(stats.get("records").asInt()).isEqualTo(2);
        assertThat(stats.get("rejected").asInt()).isEqualTo(1);
        assertThat(stats.get("rows").asInt()).isEqualTo(2);
        JsonNode row = JSON.readTree(lines.get(0));
        long nonPad = countNonPad(row);
        long trained = sum(row.get("loss_mask"));
        assertThat(stats.get("nonpad_share").asDouble()).isEqualTo((2.0 * nonPad) / (2 * 64));
        assertThat(stats.get("trained_share").asDouble()).isEqualTo((2.0 * trained) / (2 * 64));
    }

    @Test
    void explainPrintsTheShiftedTableInsteadOfJson() throws Exception {
        CliRun run = prepare(file(GOOD + "\n"), "--explain");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("loss_mask[k]").contains("`<|im_start|>`").doesNotContain("\"input_ids\"");
    }

    @Test
    void usageErrorsExitWithTwoAndExplainOnStandardError() throws Exception {
        Path input = file(GOOD + "\n");
        assertUsageError(CliRun.of("prepare", "--stage", "sft", "--seq-len", "64", "--input", input.toString(), "--bogus"), "--bogus");
        assertUsageError(prepare(input, "--tokenizer", dir.resolve("no-such-folder").toString()), "no-such-folder");
        assertUsageError(prepare(dir.resolve("missing.jsonl")), "missing.jsonl");
        assertUsageError(CliRun.of("prepare", "--stage", "chat", "--seq-len", "64", "--input", input.toString()), "chat");
        assertUsageError(CliRun.of("prepare", "--stage", "sft", "--input", input.toString()), "--seq-len");
        assertUsageError(prepare(input, "--packing", "sideways"), "--packing");
    }

    @Test
    void packingPrintsOneLinePerPackedRowAndKeepsErrorLines() throws Exception {
        CliRun run = prepare(file(GOOD + "\nnot json\n" + GOOD + "\n"), "--packing", "on", "--stats");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines).hasSize(3);
        JsonNode bad = JSON.readTree(lines.get(0));
        assertThat(bad.get("line").asInt()).isEqualTo(2);
        assertThat(bad.at("/error/reason").asText()).isEqualTo("INVALID_JSON");
        JsonNode row = JSON.readTree(lines.get(1));
        assertThat(row.get("row").asInt()).isZero();
        assertThat(row.get("lines")).hasSize(2);
        assertThat(row.get("lines").get(0).asInt()).isEqualTo(1);
        assertThat(row.get("lines").get(1).asInt()).isEqualTo(3);
        for (String field : List.of("input_ids", "loss_mask", "segment_ids", "position_ids")) {
            assertThat(row.get(field)).as(field).hasSize(64);
        }
        // both records are the same conversation: the second starts where the first ends
        int n = 0;
        while (row.get("segment_ids").get(n).asInt() == 1) {
            n++;
        }
        assertThat(row.get("segment_ids").get(n).asInt()).isEqualTo(2);
        assertThat(row.get("position_ids").get(n).asInt()).isZero();
        assertThat(row.get("input_ids").get(n)).isEqualTo(row.get("input_ids").get(0));
        assertThat(row.get("loss_mask").get(n).asInt()).isZero();
        JsonNode stats = JSON.readTree(lines.get(2)).get("stats");
        assertThat(stats.get("records").asInt()).isEqualTo(2);
        assertThat(stats.get("rejected").asInt()).isEqualTo(1);
        assertThat(stats.get("rows").asInt()).isEqualTo(1);
        assertThat(stats.get("nonpad_share").asDouble()).isEqualTo(2.0 * n / 64);
        assertThat(stats.get("trained_share").asDouble()).isEqualTo(sum(row.get("loss_mask")) / 64.0);
    }

    @Test
    void packingIsRejectedForDpoAndWithExplainAndNeedsAPositiveBuffer() throws Exception {
        Path input = file(GOOD + "\n");
        assertUsageError(CliRun.of("prepare", "--stage", "dpo", "--seq-len", "64", "--input", input.toString(), "--packing", "on"),
                "packing is not supported for dpo");
        assertUsageError(prepare(input, "--packing", "on", "--explain"), "--explain");
        assertUsageError(prepare(input, "--packing", "on", "--pack-buffer", "0"), "--pack-buffer");
    }

    @Test
    void maskRuleTrainOnAndSpecialTokenPolicyAreHonoured() throws Exception {
        String twoTurns = "{\"conversations\":[{\"role\":\"user\",\"content\":\"Hi <|im_end|>\"},{\"role\":\"assistant\",\"content\":\"Hello!\"},"
                + "{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Ciao\"}]}";
        Path input = file(twoTurns + "\n");

        JsonNode pattern = JSON.readTree(prepare(input).outLines().get(0));
        JsonNode span = JSON.readTree(prepare(input, "--mask-rule", "span").outLines().get(0));
        JsonNode last = JSON.readTree(prepare(input, "--train-on", "last").outLines().get(0));
        JsonNode rejected = JSON.readTree(prepare(input, "--special-tokens-in-content", "reject").outLines().get(0));
        JsonNode prompted = JSON.readTree(prepare(input, "--system-prompt", "Be kind.").outLines().get(0));

        assertThat(span.get("loss_mask")).isEqualTo(pattern.get("loss_mask"));
        assertThat(pattern.get("warnings").toString()).contains("SPECIAL_TOKEN_IN_CONTENT");
        assertThat(sum(last.get("loss_mask"))).isPositive().isLessThan(sum(pattern.get("loss_mask")));
        assertThat(rejected.at("/error/reason").asText()).isEqualTo("SPECIAL_TOKEN_IN_CONTENT");
        assertThat(prompted.get("text").asText()).startsWith("<|im_start|>system\nBe kind.<|im_end|>");
    }

    /** docs/semantics.md, SFT rule 9: the bundled template drops tool calls and tool messages. */
    @Test
    void aRecordTheTemplateRendersOnlyPartOfIsAnErrorLineUnlessPartialRenderIsAccept() throws Exception {
        String toolUse = "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
                + "{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":[{\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},"
                + "{\"role\":\"tool\",\"content\":\"22 C\"},{\"role\":\"assistant\",\"content\":\"It is 22 C.\"}]}";
        Path input = file(String.join("\n", GOOD, toolUse, GOOD) + "\n");

        CliRun rejecting = prepare(input);
        CliRun accepting = prepare(input, "--partial-render", "accept");

        assertThat(rejecting.exitCode()).as(rejecting.err()).isZero();
        assertThat(rejecting.outLines()).hasSize(3);
        JsonNode error = JSON.readTree(rejecting.outLines().get(1));
        assertThat(error.get("line").asInt()).isEqualTo(2);
        assertThat(error.at("/error/reason").asText()).isEqualTo("TEMPLATE_DROPPED_CONTENT");
        assertThat(error.at("/error/message").asText()).startsWith("messages[1].tool_calls[0]: the function name \"get_weather\"");
        assertThat(JSON.readTree(rejecting.outLines().get(2)).get("input_ids")).hasSize(64);
        JsonNode accepted = JSON.readTree(accepting.outLines().get(1));
        assertThat(accepted.get("input_ids")).hasSize(64);
        assertThat(accepted.get("warnings").toString()).contains("TEMPLATE_DROPPED_CONTENT");
        assertThat(accepting.outLines().get(0)).isEqualTo(rejecting.outLines().get(0));
        assertUsageError(prepare(input, "--partial-render", "allow"), "--partial-render");
    }

    /** Issue 11, item 2: one conversation of thousands of short messages does not stall prepare. */
    @Test
    void aConversationOverMaxMessagesIsAnErrorLineAndTheLinesAfterItArePrepared() throws Exception {
        StringBuilder longOne = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < 5_000; i++) {
            longOne.append(i == 0 ? "" : ",").append("{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant")
                    .append("\",\"content\":\"message number ").append(i).append(" of a very long chat\"}");
        }
        Path input = file(String.join("\n", GOOD, longOne + "]}", GOOD) + "\n");

        CliRun run = prepare(input);
        CliRun lowered = prepare(file(GOOD + "\n"), "--max-messages", "1");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).hasSize(3);
        JsonNode error = JSON.readTree(run.outLines().get(1));
        assertThat(error.get("line").asInt()).isEqualTo(2);
        assertThat(error.at("/error/reason").asText()).isEqualTo("TOO_MANY_MESSAGES");
        assertThat(error.at("/error/message").asText()).contains("5000 messages").contains("max-messages=1000");
        assertThat(JSON.readTree(run.outLines().get(2)).get("input_ids")).hasSize(64);
        assertThat(JSON.readTree(lowered.outLines().get(0)).at("/error/reason").asText()).isEqualTo("TOO_MANY_MESSAGES");
        assertUsageError(prepare(input, "--max-messages", "0"), "--max-messages");
        assertUsageError(prepare(input, "--record-time-budget-ms", "0"), "--record-time-budget-ms");
    }

    /** A tokenizer folder with the bundled vocabulary and a chat template that spins on the content "spin". */
    private Path spinningTemplateFolder() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("tokenizer"));
        Files.copy(dev.millrace.core.tokenizer.TokenizerFolder.bundledPath().resolve("tokenizer.json"), folder.resolve("tokenizer.json"));
        String template = "{% for m in messages %}{% if m['content'] == 'spin' %}{% for i in range(100000) %}"
                + "{% for j in range(100000) %}{% endfor %}{% endfor %}{% endif %}"
                + "<|im_start|>{{ m['role'] }}\\n{{ m['content'] }}<|im_end|>\\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}";
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\", \"pad_token\": \"<|endoftext|>\", "
                + "\"chat_template\": \"" + template + "\"}");
        return folder;
    }

    @Test
    void aRecordPastTheTimeBudgetIsAnErrorLineNamingTheBudget() throws Exception {
        String spin = "{\"messages\":[{\"role\":\"user\",\"content\":\"spin\"},{\"role\":\"assistant\",\"content\":\"ok\"}]}";
        Path input = file(String.join("\n", GOOD_OPENAI, spin, GOOD_OPENAI) + "\n");

        CliRun run = prepare(input, "--tokenizer", spinningTemplateFolder().toString(), "--record-time-budget-ms", "1000");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).hasSize(3);
        JsonNode error = JSON.readTree(run.outLines().get(1));
        assertThat(error.at("/error/reason").asText()).isEqualTo("RECORD_TIME_BUDGET_EXCEEDED");
        assertThat(error.at("/error/message").asText()).contains("record-time-budget-ms=1000");
        assertThat(JSON.readTree(run.outLines().get(0)).has("input_ids")).isTrue();
        assertThat(JSON.readTree(run.outLines().get(2)).has("input_ids")).isTrue();
    }

    @Test
    void pretrainWrapsTextAndDpoPrintsBothSides() throws Exception {
        CliRun pretrain = CliRun.of("prepare", "--stage", "pretrain", "--seq-len", "16", "--input", file("{\"text\": \"Hello world\"}\n").toString());
        JsonNode text = JSON.readTree(pretrain.outLines().get(0));
        assertThat(text.get("input_ids").get(0).asInt()).isEqualTo(1);
        assertThat(text.get("text").asText()).isEqualTo("Hello world");
        assertThat(sum(text.get("loss_mask"))).isEqualTo(countNonPad(text));

        String pair = "{\"prompt\": \"2+2?\", \"chosen\": \"4\", \"rejected\": \"5\"}";
        CliRun dpo = CliRun.of("prepare", "--stage", "dpo", "--seq-len", "64", "--input", file(pair + "\n").toString(), "--stats");
        JsonNode both = JSON.readTree(dpo.outLines().get(0));
        assertThat(both.at("/chosen/text").asText()).endsWith("4<|im_end|>\n");
        assertThat(both.at("/rejected/text").asText()).endsWith("5<|im_end|>\n");
        assertThat(both.at("/chosen/input_ids")).hasSize(64);
        assertThat(JSON.readTree(dpo.outLines().get(1)).at("/stats/rows").asInt()).isEqualTo(2);
    }

    @Test
    void pretrainOverflowSplitPrintsOneLinePerWindow() throws Exception {
        Path input = file("{\"text\": \"" + "lorem ipsum dolor sit amet ".repeat(20) + "\"}\n");

        CliRun truncated = CliRun.of("prepare", "--stage", "pretrain", "--seq-len", "32", "--input", input.toString());
        CliRun split = CliRun.of("prepare", "--stage", "pretrain", "--seq-len", "32", "--input", input.toString(),
                "--pretrain-overflow", "split", "--stats");

        assertThat(truncated.outLines()).hasSize(1);
        List<String> windows = split.outLines().subList(0, split.outLines().size() - 1);
        assertThat(windows.size()).isGreaterThan(1);
        for (int k = 0; k < windows.size(); k++) {
            JsonNode w = JSON.readTree(windows.get(k));
            assertThat(w.get("line").asInt()).isEqualTo(1);
            assertThat(w.get("window").asInt()).isEqualTo(k);
            assertThat(w.get("input_ids")).hasSize(32);
        }
        JsonNode stats = JSON.readTree(split.outLines().get(split.outLines().size() - 1)).get("stats");
        assertThat(stats.get("records").asInt()).isEqualTo(1);
        assertThat(stats.get("rows").asInt()).isEqualTo(windows.size());
        assertUsageError(CliRun.of("prepare", "--stage", "pretrain", "--seq-len", "32", "--input", input.toString(),
                "--pretrain-overflow", "wrap-around"), "--pretrain-overflow");
    }

    private static void assertUsageError(CliRun run, String mentioned) {
        assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains(mentioned);
    }

    private static long countNonPad(JsonNode row) {
        // The bundled tokenizer pads with id 0 and the test text has no id 0 in it.
        long n = 0;
        for (JsonNode id : row.get("input_ids")) {
            if (id.asInt() != 0) {
                n++;
            }
        }
        return n;
    }

    private static long sum(JsonNode values) {
        long s = 0;
        for (JsonNode v : values) {
            s += v.asInt();
        }
        return s;
    }
}
