package dev.millrace.chattemplate;

import dev.millrace.contract.PipelineService;
import dev.millrace.streams.config.OtherServicesSettings;

/** chat-template lets the keys the other services read through its unknown-key check (registered in META-INF/services). */
public final class ChatTemplateOtherServicesSettings extends OtherServicesSettings {
    public ChatTemplateOtherServicesSettings() {
        super(PipelineService.CHAT_TEMPLATE);
    }
}
