package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.testing.SharedData;
import dev.millrace.core.testing.TestTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ./millrace prepare} against the external conformance set {@code ../shared/conformance/minimind}
 * (through {@link SharedData}: skipped when absent, a failure under CI=true) exactly as its README
 * says: one run per file, argument parsing and the byte-level line reader included, text, ids and
 * unshifted masks compared for equality; each bad line of stage sft run as its own file.
 */
class PrepareConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0} --mask-rule {2}")
    @CsvSource({"sft-512, 512, pattern", "sft-128, 128, pattern", "sft-512, 512, span", "sft-128, 128, span"})
    void sftCasesMatchByteForByte(String name, int seqLen, String maskRule) throws Exception {
        Path tokenizer = TestTokenizers.minimind();
        Path input = SharedData.conformance(name + ".input.jsonl");
        List<String> expected = Files.readAllLines(SharedData.conformance(name + ".expected.jsonl"));

        CliRun run = CliRun.of("prepare", "--stage", "sft", "--tokenizer", tokenizer.toString(),
                "--seq-len", String.valueOf(seqLen), "--input", input.toString(), "--mask-rule", maskRule);

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            JsonNode want = JSON.readTree(expected.get(i));
            JsonNode got = JSON.readTree(lines.get(i));
            String c = want.get("case").asText();
            assertThat(got.has("error")).as(c + " must not be an error: " + got.get("error")).isFalse();
            assertThat(got.get("line").asInt()).as(c + " line").isEqualTo(i + 1);
            assertThat(got.get("text").asText()).as(c + " text").isEqualTo(want.get("text").asText());
            assertThat(got.get("input_ids")).as(c + " input_ids").isEqualTo(want.get("input_ids"));
            assertThat(got.get("loss_mask")).as(c + " loss_mask").isEqualTo(want.get("loss_mask"));
            assertThat(got.get("input_ids")).hasSize(seqLen);
        }
    }

    @Test
    void pretrainCasesMatchByteForByte() throws Exception {
        List<String> expected = Files.readAllLines(SharedData.conformance("pretrain-128.expected.jsonl"));
        CliRun run = CliRun.of("prepare", "--stage", "pretrain", "--tokenizer", TestTokenizers.minimind().toString(),
                "--seq-len", "128", "--input", SharedData.conformance("pretrain-128.input.jsonl").toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            JsonNode want = JSON.readTree(expected.get(i));
            JsonNode got = JSON.readTree(run.outLines().get(i));
            String c = want.get("case").asText();
            assertThat(got.has("error")).as(c + ": " + got.get("error")).isFalse();
            assertThat(got.get("text").asText()).as(c + " text").isEqualTo(want.get("text").asText());
            assertThat(got.get("input_ids")).as(c + " input_ids").isEqualTo(want.get("input_ids"));
            assertThat(got.get("loss_mask")).as(c + " loss_mask").isEqualTo(want.get("loss_mask"));
        }
    }

    @ParameterizedTest(name = "dpo-512 --mask-rule {0}")
    @CsvSource({"pattern", "span"})
    void dpoCasesMatchByteForByteOnBothSides(String maskRule) throws Exception {
        List<String> expected = Files.readAllLines(SharedData.conformance("dpo-512.expected.jsonl"));
        CliRun run = CliRun.of("prepare", "--stage", "dpo", "--tokenizer", TestTokenizers.minimind().toString(),
                "--seq-len", "512", "--input", SharedData.conformance("dpo-512.input.jsonl").toString(), "--mask-rule", maskRule);

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            JsonNode want = JSON.readTree(expected.get(i));
            JsonNode got = JSON.readTree(run.outLines().get(i));
            String c = want.get("case").asText();
            assertThat(got.has("error")).as(c + ": " + got.get("error")).isFalse();
            for (String side : List.of("chosen", "rejected")) {
                assertThat(got.at("/" + side + "/text").asText()).as(c + " " + side + " text").isEqualTo(want.at("/" + side + "/text").asText());
                assertThat(got.at("/" + side + "/input_ids")).as(c + " " + side + " ids").isEqualTo(want.at("/" + side + "/input_ids"));
                assertThat(got.at("/" + side + "/loss_mask")).as(c + " " + side + " mask").isEqualTo(want.at("/" + side + "/loss_mask"));
            }
        }
    }

    @Test
    void everyBadLineGivesItsReason(@TempDir Path dir) throws Exception {
        Path tokenizer = TestTokenizers.minimind();
        List<byte[]> raw = rawLines(Files.readAllBytes(SharedData.conformance("bad.jsonl")));
        List<String> expected = Files.readAllLines(SharedData.conformance("bad.expected.jsonl"));
        int checked = 0;
        for (String e : expected) {
            JsonNode want = JSON.readTree(e);
            int n = want.get("line").asInt();
            Path single = dir.resolve("bad-" + n + ".jsonl");
            byte[] bytes = raw.get(n - 1);
            byte[] withNewline = java.util.Arrays.copyOf(bytes, bytes.length + 1);
            withNewline[bytes.length] = '\n';
            Files.write(single, withNewline); // the raw bytes: line 3 is deliberately not UTF-8

            CliRun run = CliRun.of("prepare", "--stage", want.get("stage").asText(), "--tokenizer", tokenizer.toString(),
                    "--seq-len", want.get("seq_len").asText(), "--input", single.toString());

            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(run.outLines()).hasSize(1);
            JsonNode got = JSON.readTree(run.outLines().get(0));
            String c = want.get("case").asText();
            assertThat(got.get("line").asInt()).as(c).isEqualTo(1);
            assertThat(got.has("input_ids")).as(c + " must be an error line").isFalse();
            assertThat(got.at("/error/reason").asText()).as(c + ": " + got).isEqualTo(want.get("reason").asText());
            assertThat(got.at("/error/message").asText()).as(c).isNotBlank();
            checked++;
        }
        assertThat(checked).isEqualTo(expected.size()).isEqualTo(12);
    }

    /** Splits on '\n' without decoding, so non-UTF-8 bytes survive. */
    static List<byte[]> rawLines(byte[] all) {
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == '\n') {
                lines.add(java.util.Arrays.copyOfRange(all, start, i));
                start = i + 1;
            }
        }
        if (start < all.length) {
            lines.add(java.util.Arrays.copyOfRange(all, start, all.length));
        }
        return lines;
    }
}
