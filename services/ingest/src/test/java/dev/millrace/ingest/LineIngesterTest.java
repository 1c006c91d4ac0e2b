package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.Topics;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.WireStage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** Reading a body line by line, without HTTP or Kafka. */
class LineIngesterTest {
    private static final LineIngester ingester = new LineIngester(Stage.SFT, Topics.DEFAULT, 200);

    static LongFunction<Source> http(String requestId) {
        return n -> Source.newBuilder().setKind("http").setName(requestId).setLine(n).build();
    }

    static LineIngester.Request format(InputFormat format) {
        return new LineIngester.Request(format, null);
    }

    static List<RawRecord> records(LineIngester.Ingested out) {
        return out.accepted().stream().map(LineIngester.Accepted::record).toList();
    }

    @Test
    void aLineThatFailsInAWayNoRuleForeseesIsAnUnexpectedErrorDeadLetterWithItsBytesNotAFailedBody() {
        String good = "{\"conversations\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}";
        LineIngester.Ingested out = new LineIngester.Ingested();
        dev.millrace.core.json.RawLine line = new dev.millrace.core.json.LineReader(new java.io.ByteArrayInputStream(body(good))).next();
        // A null request stands in for a bug: reading the line throws a NullPointerException no rule expects.
        ingester.add(out, line, null, http("req").apply(1), 5L);
        ingester.add(out, line, format(null), http("req").apply(2), 5L);

        assertThat(out.rejected()).hasSize(1);
        DeadLetter d = out.rejected().get(0);
        assertThat(d.getReason()).isEqualTo("UNEXPECTED_ERROR");
        assertThat(d.getMessage()).contains("java.lang.NullPointerException");
        assertThat(d.getOriginal().toStringUtf8()).isEqualTo(good);
        assertThat(out.accepted()).as("the next line goes on").hasSize(1);
    }

    @Test
    void theSameConversationGetsTheSameIdInEitherFormatAndTheIdIsTheArchitecturesHash() throws Exception {
        String minimind = "{\"conversations\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}";
        String openai = "{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},{\"role\":\"assistant\",\"content\":\"4\"}]}";

        LineIngester.Ingested out = ingester.ingest(body(minimind + "\n" + openai + "\n"), format(null), http("req-1"), 42L);

        assertThat(out.rejected()).isEmpty();
        RawRecord a = records(out).get(0);
        RawRecord b = records(out).get(1);
        String canonical = "{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},{\"content\":\"4\",\"role\":\"assistant\"}]}";
        assertThat(a.getNormalisedJson()).isEqualTo(canonical);
        assertThat(b.getNormalisedJson()).isEqualTo(canonical);
        assertThat(a.getRecordId()).isEqualTo(sha256Hex("sft\n" + canonical)).isEqualTo(b.getRecordId());
        assertThat(a.getFormat()).isEqualTo("minimind");
        assertThat(b.getFormat()).isEqualTo("openai");
        assertThat(a.getStage()).isEqualTo(WireStage.SFT);
        assertThat(a.getIngestedAtMs()).isEqualTo(42L);
        assertThat(a.getSource().getKind()).isEqualTo("http");
        assertThat(a.getSource().getName()).isEqualTo("req-1");
        assertThat(List.of(a.getSource().getLine(), b.getSource().getLine())).containsExactly(1L, 2L);
    }

    @Test
    void blankLinesAreSkippedButCountedAndCrLfIsALineEnd() {
        String good = "{\"conversations\":[{\"content\":\"a\"},{\"content\":\"b\"}]}";
        LineIngester.Ingested out = ingester.ingest(body("\r\n" + good + "\r\n  \n\n" + good), format(null), http("r"), 0);

        assertThat(out.rejected()).isEmpty();
        assertThat(records(out)).extracting(r -> r.getSource().getLine()).containsExactly(2L, 5L);
        // positional roles (no message has a role): user, assistant
        assertThat(records(out).get(0).getNormalisedJson()).contains("\"role\":\"user\"").contains("\"role\":\"assistant\"");
    }

    @Test
    void badLinesBecomeDeadLettersWithTheirReasonAndTheirOriginalBytes() throws Exception {
        byte[] notUtf8 = concat("{\"conversations\":[{\"role\":\"user\",\"content\":\"".getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xff, (byte) 0xfe}, "\"}]}".getBytes(StandardCharsets.UTF_8));
        String[] lines = {
            "{\"conversations\": [",
            null, // the non-UTF-8 line
            "{\"conversations\":[{\"role\":\"robot\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}",
            "{\"conversations\":[]}",
            "{\"prompt\":\"x\",\"completion\":\"y\"}",
            "{\"conversations\":[{\"role\":\"user\",\"content\":\"only a question\"}]}",
            "{\"conversations\":[{\"role\":\"user\",\"content\":3},{\"role\":\"assistant\",\"content\":\"y\"}]}",
        };
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String line : lines) {
            body.write(line == null ? notUtf8 : line.getBytes(StandardCharsets.UTF_8));
            body.write('\n');
        }

        LineIngester.Ingested out = ingester.ingest(body.toByteArray(), format(null), http("req-2"), 0);

        assertThat(out.accepted()).isEmpty();
        assertThat(out.rejected()).extracting(DeadLetter::getReason).containsExactly(
                "INVALID_JSON", "INVALID_UTF8", "UNKNOWN_ROLE", "EMPTY_CONVERSATION", "UNKNOWN_FORMAT",
                "NO_TRAINABLE_TOKENS", "WRONG_TYPE");
        assertThat(out.rejected()).extracting(d -> d.getSource().getLine()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
        assertThat(out.rejected().get(1).getOriginal().toByteArray()).isEqualTo(notUtf8);
        assertThat(out.rejected().get(0).getOriginal().toStringUtf8()).isEqualTo(lines[0]);
        for (DeadLetter letter : out.rejected()) {
            assertThat(letter.getService()).isEqualTo("ingest");
            assertThat(letter.getStage()).isEqualTo(WireStage.SFT);
            assertThat(letter.getRecordId()).isEmpty();
            assertThat(letter.getMessage()).isNotBlank();
            assertThat(letter.getSource().getName()).isEqualTo("req-2");
        }
        assertThat(out.rejected().get(2).getMessage()).contains("robot");
    }

    @Test
    void aLineOverTheLimitIsTooLargeAndItsDeadLetterKeepsTheLimitsWorthOfBytes() {
        String big = "{\"conversations\":[{\"content\":\"" + "x".repeat(300) + "\"},{\"content\":\"b\"}]}";
        String justFits = "{\"conversations\":[{\"content\":\"" + "x".repeat(200 - 50) + "\"},{\"content\":\"b\"}]}";
        assertThat(justFits.length()).isEqualTo(200);

        LineIngester.Ingested out = ingester.ingest(body(big + "\n" + justFits), format(null), http("r"), 0);

        assertThat(out.rejected()).hasSize(1);
        DeadLetter letter = out.rejected().get(0);
        assertThat(letter.getReason()).isEqualTo("RECORD_TOO_LARGE");
        assertThat(letter.getMessage()).contains(String.valueOf(big.length())).contains("200");
        assertThat(letter.getOriginal().toStringUtf8()).isEqualTo(big.substring(0, 200));
        assertThat(records(out)).extracting(r -> r.getSource().getLine()).containsExactly(2L);
    }

    @Test
    void aForcedFormatIsUsedForEveryLine() {
        String minimind = "{\"conversations\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}";
        String openai = "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}";

        LineIngester.Ingested out = ingester.ingest(body(minimind + "\n" + openai), format(InputFormat.OPENAI), http("r"), 0);

        assertThat(out.rejected()).extracting(DeadLetter::getReason).containsExactly("MISSING_FIELD");
        assertThat(out.rejected().get(0).getSource().getLine()).isEqualTo(1L);
        assertThat(records(out)).extracting(RawRecord::getFormat).containsExactly("openai");
    }

    @Test
    void theConversationFormatsCanBeForcedForSft() {
        assertThat(LineIngester.forcedFormat(null, Stage.SFT)).isNull();
        assertThat(LineIngester.forcedFormat("auto", Stage.SFT)).isNull();
        assertThat(LineIngester.forcedFormat("minimind", Stage.SFT)).isEqualTo(InputFormat.MINIMIND);
        assertThat(LineIngester.forcedFormat("openai", Stage.SFT)).isEqualTo(InputFormat.OPENAI);
        assertThat(LineIngester.forcedFormat("sharegpt", Stage.SFT)).isEqualTo(InputFormat.SHAREGPT);
        assertThat(LineIngester.forcedFormat("alpaca", Stage.SFT)).isEqualTo(InputFormat.ALPACA);
        for (String other : List.of("text", "dpo", "OPENAI", "")) {
            assertThatThrownBy(() -> LineIngester.forcedFormat(other, Stage.SFT)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + other + "'");
        }
    }

    @Test
    void anEmptyBodyHasNoLines() {
        LineIngester.Ingested out = ingester.ingest(new byte[0], format(null), http("r"), 0);
        assertThat(out.lines()).isZero();
    }

    static byte[] body(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static String sha256Hex(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
