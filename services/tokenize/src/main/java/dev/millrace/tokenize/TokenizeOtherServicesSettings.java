package dev.millrace.tokenize;

import dev.millrace.contract.PipelineService;
import dev.millrace.streams.config.OtherServicesSettings;

/** tokenize lets the keys the other services read through its unknown-key check (registered in META-INF/services). */
public final class TokenizeOtherServicesSettings extends OtherServicesSettings {
    public TokenizeOtherServicesSettings() {
        super(PipelineService.TOKENIZE);
    }
}
