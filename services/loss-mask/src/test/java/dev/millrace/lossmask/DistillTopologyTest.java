package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** distill: answered conversations become rows exactly like SFT, in the distill batches. */
class DistillTopologyTest {

    @Test
    void distillRowsAreSftRows() throws Exception {
        try (Driver d = new Driver(List.of(Stage.SFT, Stage.DISTILL), 1, Map.of())) {
            String text = "<|im_start|>user\nWhy is the sky blue?<|im_end|>\n<|im_start|>assistant\nRayleigh scattering.<|im_end|>\n";
            TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
            for (int token : d.folder.tokenizer().ids(text)) {
                side.addIds(token);
            }
            d.send(Stage.DISTILL, "a1", TokenizedRecord.newBuilder().setRecordId("a1").setStage(WireStage.DISTILL)
                    .setTeacherId("teacher-7").setTokenizerFingerprint(d.folder.fingerprint()).setRaw(Driver.RAW)
                    .addSides(side).build().toByteArray());

            List<Batch> batches = d.batches(Stage.DISTILL);

            assertThat(batches).hasSize(1);
            Batch batch = batches.get(0);
            assertThat(batch.getBatchId()).isEqualTo("distill-p0-00000000");
            assertThat(batch.getStage()).isEqualTo(WireStage.DISTILL);
            SftPreparer sft = new SftPreparer(d.folder, new SftOptions(Stage.SFT, Driver.T, null));
            Rows.assertIs(batch.getRows(0), sft.mask(d.folder.tokenizer().ids(text), null).row());
            assertThat(batch.getRows(0).getRecords(0).getRaw()).isEqualTo(Driver.RAW);
            assertThat(d.batches(Stage.SFT)).isEmpty();
        }
    }
}
