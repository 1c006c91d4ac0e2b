package dev.millrace.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.TokenizedSide;
import org.junit.jupiter.api.Test;

/** A pretrain side on the wire gives back the wrapped sequence it was made from; side counts per stage. */
class WirePretrainTest {

    @Test
    void aWrappedSequenceSurvivesTheWire() throws Exception {
        PretrainPreparer.Wrapped wrapped = new PretrainPreparer.Wrapped(new int[] {1, 40, 41, 2}, true);

        TokenizedSide side = TokenizedSide.parseFrom(WirePretrain.side(wrapped).toByteArray());
        PretrainPreparer.Wrapped back = WirePretrain.wrapped(side);

        assertThat(side.getEosAdded()).isTrue();
        assertThat(side.getAssistantTokenSpansKnown()).isFalse();
        assertThat(back.ids()).containsExactly(1, 40, 41, 2);
        assertThat(back.eosAdded()).isTrue();
        assertThat(WirePretrain.wrapped(WirePretrain.side(new PretrainPreparer.Wrapped(new int[] {7}, false))).eosAdded()).isFalse();
    }

    @Test
    void aDpoRecordHasTwoSidesEveryOtherOne() {
        assertThat(SideCount.of(Stage.DPO)).isEqualTo(2);
        assertThat(SideCount.of(Stage.PRETRAIN)).isEqualTo(1);
        SideCount.check(Stage.SFT, 1);
        assertThatThrownBy(() -> SideCount.check(Stage.DPO, 1)).isInstanceOf(MalformedMessage.class)
                .hasMessage("a dpo record has 2 sides (chosen, then rejected), this one has 1");
        assertThatThrownBy(() -> SideCount.check(Stage.DISTILL, 2)).hasMessage("a distill record has 1 side, this one has 2");
    }
}
