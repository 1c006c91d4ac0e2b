package dev.millrace.core.wire;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.WireStage;

/** Maps the domain {@link Stage} to the wire enum {@link WireStage} and back. */
public final class StageCodec {
    private StageCodec() {
    }

    public static WireStage toWire(Stage stage) {
        return switch (stage) {
            case PRETRAIN -> WireStage.PRETRAIN;
            case SFT -> WireStage.SFT;
            case DPO -> WireStage.DPO;
            case DISTILL -> WireStage.DISTILL;
        };
    }

    public static Stage fromWire(WireStage stage) {
        return switch (stage) {
            case PRETRAIN -> Stage.PRETRAIN;
            case SFT -> Stage.SFT;
            case DPO -> Stage.DPO;
            case DISTILL -> Stage.DISTILL;
            default -> throw new IllegalArgumentException("message has no stage");
        };
    }
}
