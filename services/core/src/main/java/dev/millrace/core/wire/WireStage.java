package dev.millrace.core.wire;

import dev.millrace.core.record.Stage;

/** The domain stage and its protobuf twin. */
public final class WireStage {
    private WireStage() {
    }

    public static dev.millrace.proto.v1.Stage toProto(Stage stage) {
        return switch (stage) {
            case PRETRAIN -> dev.millrace.proto.v1.Stage.PRETRAIN;
            case SFT -> dev.millrace.proto.v1.Stage.SFT;
            case DPO -> dev.millrace.proto.v1.Stage.DPO;
            case DISTILL -> dev.millrace.proto.v1.Stage.DISTILL;
        };
    }

    public static Stage fromProto(dev.millrace.proto.v1.Stage stage) {
        return switch (stage) {
            case PRETRAIN -> Stage.PRETRAIN;
            case SFT -> Stage.SFT;
            case DPO -> Stage.DPO;
            case DISTILL -> Stage.DISTILL;
            default -> throw new IllegalArgumentException("message has no stage");
        };
    }
}
