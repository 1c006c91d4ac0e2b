package dev.millrace.lossmask;

import dev.millrace.contract.PipelineService;
import dev.millrace.streams.config.OtherServicesSettings;

/** loss-mask lets the keys the other services read through its unknown-key check (registered in META-INF/services). */
public final class LossMaskOtherServicesSettings extends OtherServicesSettings {
    public LossMaskOtherServicesSettings() {
        super(PipelineService.LOSS_MASK);
    }
}
