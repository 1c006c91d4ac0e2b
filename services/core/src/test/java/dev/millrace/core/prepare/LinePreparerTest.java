package dev.millrace.core.prepare;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file's lines, one result each: a line that fails in a way no rule foresees costs only itself. */
class LinePreparerTest {

    @Test
    void anUnforeseenFailureOnOneLineIsThatLinesUnexpectedErrorAndTheFileGoesOn(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "a\n\nboom\nc\ndeep\n", StandardCharsets.UTF_8);
        LinePreparer preparer = line -> {
            String text = new String(line.bytes(), StandardCharsets.UTF_8);
            if (text.equals("boom")) {
                throw new IllegalStateException("a bug");
            }
            if (text.equals("deep")) {
                throw new StackOverflowError();
            }
            return new Prepared.Rejected(line.number(), Reason.INVALID_JSON, text);
        };

        List<Prepared> out = new ArrayList<>();
        preparer.prepareFile(input, out::add);

        assertThat(out).hasSize(4);
        assertThat(out).extracting(p -> ((Prepared.Rejected) p).line()).containsExactly(1L, 3L, 4L, 5L);
        Prepared.Rejected boom = (Prepared.Rejected) out.get(1);
        assertThat(boom.reason()).isEqualTo(Reason.UNEXPECTED_ERROR);
        assertThat(boom.message()).contains("java.lang.IllegalStateException: a bug");
        assertThat(((Prepared.Rejected) out.get(2)).reason()).as("the line after it").isEqualTo(Reason.INVALID_JSON);
        assertThat(((Prepared.Rejected) out.get(3)).reason()).isEqualTo(Reason.UNEXPECTED_ERROR);
    }
}
